# A threaded Perl host: threads with their own engines on one database, and a clean exit.
use strict;
use warnings;
use Config;
use File::Spec;
use FindBin ();
use Test::More;
use lib 't/lib';
use ENTest qw(fresh_db);

plan skip_all => 'this perl has no ithreads' unless $Config{useithreads};

my $host = File::Spec->catfile($FindBin::Bin, 'lib', 'threaded-host.pl');
my @include = map { '-I' . File::Spec->catdir($FindBin::Bin, @$_) } ['..', 'lib'], ['lib'];
# Its TAP is read through a pipe so that it does not mix with this file's.
open(my $out, '-|', $^X, @include, $host, fresh_db()) or die "cannot start $host: $!";
my $tap = do { local $/; <$out> };
close $out;
my $status = $?;
is($status, 0, 'the threaded host passes its checks and exits cleanly (status 0)') or diag $tap;
like($tap, qr/^1\.\.9$/m, 'the host ran all its checks');
unlike($tap, qr/^not ok/m, 'none of them failed');

done_testing;
