# Where the binding looks for the library, and what it says when the library is not there.
use strict;
use warnings;
use Test::More;
use Cwd ();
use File::Copy ();
use File::Find ();
use File::Path ();
use File::Spec;
use File::Temp ();
use EN::Notify;

my $real = EN::Notify::FFI::library_path();
ok(-f $real, "the library in use exists: $real");

# A copy of lib/ in a folder with no cargo build above it.
my $tree = File::Temp->newdir('en-notify-lib-XXXXXX', TMPDIR => 1);
my $lib = File::Spec->catdir($tree->dirname, 'lib');
File::Find::find({ no_chdir => 1, wanted => sub {
    my $target = File::Spec->catfile($lib, File::Spec->abs2rel($_, 'lib'));
    -d $_ ? File::Path::make_path($target) : File::Copy::copy($_, $target) or die "copy $_: $!";
} }, 'lib');

# Runs perl code (no single quotes) in $tree with the copied lib/; returns (status, output).
sub run_perl {
    my ($code, %env) = @_;
    local %ENV = %ENV;
    defined $env{$_} ? ($ENV{$_} = $env{$_}) : delete $ENV{$_} for keys %env;
    my $here = Cwd::getcwd();
    chdir $tree->dirname or die "chdir: $!";
    my $output = `"$^X" -Ilib -e '$code' 2>&1`;
    my $status = $?;
    chdir $here or die "chdir: $!";
    return ($status, $output);
}

my $show = 'use EN::Notify; print EN::Notify::FFI::library_path()';

my ($status, $output) = run_perl($show, EN_NOTIFY_LIBRARY => undef);
isnt($status, 0, 'without a library anywhere, loading croaks');
like($output, qr/cannot find the en-notify library/, 'and says so');
like($output, qr{\Q$lib\E/EN/liben_notify\.so}, 'listing the place next to the module');
like($output, qr{/target/release/liben_notify\.so}, 'and the cargo folders walked up');
like($output, qr{en_notify\.dll}, 'and the Windows name');

($status, $output) = run_perl($show, EN_NOTIFY_LIBRARY => '/nonexistent/liben_notify.so');
isnt($status, 0, 'a missing EN_NOTIFY_LIBRARY croaks');
like($output, qr{EN_NOTIFY_LIBRARY is set to '/nonexistent/liben_notify\.so'}, 'naming it');

($status, $output) = run_perl($show, EN_NOTIFY_LIBRARY => $real);
is($output, $real, 'EN_NOTIFY_LIBRARY is used');

my $beside = File::Spec->catfile($lib, 'EN', 'liben_notify.so');
symlink($real, $beside) or die "symlink: $!";
($status, $output) = run_perl("$show; print q{ }, EN::Notify->version", EN_NOTIFY_LIBRARY => undef);
is($output, "$beside " . EN::Notify->version, 'a library next to the module is found and works');

done_testing;
