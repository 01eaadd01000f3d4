package EN::Notify::FFI;
# Finds liben_notify, declares its C functions, and converts results: codes to exceptions,
# library-owned strings to Perl strings, Perl subs to transport callbacks.
use strict;
use warnings;
use Carp ();
use Cwd ();
use Encode ();
use File::Basename ();
use File::Spec;
use FFI::Platypus 2.00;
use FFI::Platypus::Buffer qw(buffer_to_scalar grow scalar_to_buffer scalar_to_pointer);
use FFI::Platypus::Memory qw(memcpy);
use Scalar::Util qw(blessed);
use EN::Notify::Answer;
use EN::Notify::Error;
use EN::Notify::ThreadLocal;

our $VERSION = '0.1.0';

use constant {
    EN_DELIVERED            => 1,
    EN_RETRY_LATER          => 2,
    EN_ERR_INVALID_ARGUMENT => 8,
    EN_ERR_INVALID_HANDLE   => 13,
    EN_REPORT_SIZE          => 32,
};

my @LIBRARY_NAMES = ('liben_notify.so', 'en_notify.dll');

# The folder that holds EN/Notify.pm.
sub _module_dir {
    my $here = File::Basename::dirname(Cwd::abs_path(__FILE__));
    return Cwd::abs_path(File::Spec->catdir($here, File::Spec->updir));
}

sub _ancestors {
    my ($dir) = @_;
    my @dirs;
    while (defined $dir) {
        push @dirs, $dir;
        my $parent = Cwd::abs_path(File::Spec->catdir($dir, File::Spec->updir));
        last if !defined $parent || $parent eq $dir;
        $dir = $parent;
    }
    return @dirs;
}

# EN_NOTIFY_LIBRARY when set (and then nothing else), else next to the module, else a cargo
# build found by walking up from the module's folder and from the current directory.
sub library_path {
    my $forced = $ENV{EN_NOTIFY_LIBRARY};
    if (defined $forced && length $forced) {
        return $forced if -f $forced;
        Carp::croak("EN::Notify: EN_NOTIFY_LIBRARY is set to '$forced', which is not a file");
    }
    my $module_dir = _module_dir();
    my @candidates = map { File::Spec->catfile($module_dir, $_) } @LIBRARY_NAMES;
    my %seen;
    for my $start (grep { defined } $module_dir, Cwd::getcwd()) {
        for my $dir (grep { !$seen{$_}++ } _ancestors($start)) {
            for my $profile ('release', 'debug') {
                push @candidates,
                    map { File::Spec->catfile($dir, 'target', $profile, $_) } @LIBRARY_NAMES;
            }
        }
    }
    for my $path (@candidates) {
        return $path if -f $path;
    }
    Carp::croak(join "\n  ",
        "EN::Notify: cannot find the en-notify library; set EN_NOTIFY_LIBRARY. Looked in:",
        @candidates);
}

# No FFI::Platypus object outlives loading or crosses into a new ithread (see
# EN::Notify::ThreadLocal): the attached functions need none, and each thread makes its own
# for casts and closures. en_report* is passed as a pointer into a Perl string (no
# FFI::Platypus::Record, which crashes threaded programs at exit).
{
    my $loader = FFI::Platypus->new(api => 2, lib => [library_path()]);
    $loader->type('opaque' => 'en_report_out');    # a 32-byte string's buffer, see call_with_report
    $loader->type('(opaque,string,string,opaque,size_t,opaque,size_t)->sint32' => 'en_transport_fn');
    $loader->attach(en_version       => []                                         => 'string');
    $loader->attach(en_last_error    => []                                         => 'string');
    $loader->attach(en_string_free   => ['opaque']                                 => 'void');
    $loader->attach(en_open          => ['string', 'string', 'opaque*']            => 'sint32');
    $loader->attach(en_close         => ['opaque']                                 => 'sint32');
    $loader->attach(en_notify        => ['opaque', 'string', 'sint64*']            => 'sint32');
    $loader->attach(en_flush         => ['opaque', 'en_report_out']                => 'sint32');
    $loader->attach(en_drain         => ['opaque', 'en_report_out']                => 'sint32');
    $loader->attach(en_set_mode      => ['opaque', 'string']                       => 'sint32');
    $loader->attach(en_resend        => ['opaque', 'sint64', 'en_report_out']      => 'sint32');
    $loader->attach(en_reset_attempts => ['opaque', 'sint64']                      => 'sint32');
    $loader->attach(en_purge         => ['opaque', 'string', 'uint64', 'uint64*']  => 'sint32');
    $loader->attach(en_get_property  => ['opaque', 'string', 'opaque*']            => 'sint32');
    $loader->attach(en_set_property  => ['opaque', 'string', 'string']             => 'sint32');
    $loader->attach(en_list          => ['opaque', 'string', 'opaque*']            => 'sint32');
    $loader->attach(en_show          => ['opaque', 'sint64', 'opaque*']            => 'sint32');
    $loader->attach(en_status        => ['opaque', 'opaque*']                      => 'sint32');
    $loader->attach(en_set_transport => ['opaque', 'en_transport_fn', 'opaque']    => 'sint32');
}

my $per_thread;
sub CLONE { undef $per_thread }

sub _platypus {
    $per_thread //= EN::Notify::ThreadLocal->new(ffi => FFI::Platypus->new(api => 2));
    return $per_thread->{ffi};
}

# Every string crosses the boundary as UTF-8 bytes; undef stays undef (NULL). C would cut a
# string at an embedded NUL and act on the rest, so that croaks, naming the argument.
sub utf8_out {
    my ($text, $argument) = @_;
    return undef unless defined $text;
    my $nul = index "$text", "\0";
    EN::Notify::Error->throw(code => EN_ERR_INVALID_ARGUMENT,
        message => "$argument contains a NUL character at offset $nul, which a C string cannot carry")
        if $nul >= 0;
    return Encode::encode('UTF-8', "$text");
}

sub utf8_in {
    my ($bytes) = @_;
    return defined $bytes ? Encode::decode('UTF-8', $bytes) : undef;
}

# Croaks with an EN::Notify::Error unless the call returned EN_OK.
sub check {
    my ($code) = @_;
    return if $code == 0;
    my $message = utf8_in(en_last_error());
    EN::Notify::Error->throw(code => $code, message => $message);
}

sub closed_error {
    EN::Notify::Error->throw(code => EN_ERR_INVALID_HANDLE, message => 'the engine is closed');
}

# Calls an en_* function whose last parameter is an en_report* and returns the report as a hash:
# three native uint64 counts, then two one-byte bools (padded to 32 bytes).
sub call_with_report {
    my ($function, @arguments) = @_;
    grow(my $report, EN_REPORT_SIZE);
    check($function->(@arguments, scalar_to_pointer($report)));
    my %hash;
    @hash{qw(sent deferred failed held_by_mode delivery_disabled)} = unpack 'Q Q Q C C', $report;
    $hash{$_} = $hash{$_} ? 1 : 0 for qw(held_by_mode delivery_disabled);
    return \%hash;
}

# Copies a string the library allocated, frees it, and returns it decoded (undef for NULL).
sub take_string {
    my ($pointer) = @_;
    return undef unless defined $pointer;
    my $bytes = _platypus()->cast('opaque' => 'string', $pointer);
    en_string_free($pointer);
    return utf8_in($bytes);
}

# Writes a reason into the callback's buffer: UTF-8, cut on a character boundary, NUL-terminated.
sub _write_reason {
    my ($buffer, $capacity, $reason) = @_;
    return unless $capacity > 0;
    my $bytes = Encode::encode('UTF-8', $reason);
    if (length $bytes >= $capacity) {
        my $cut = substr $bytes, 0, $capacity - 1;
        # FB_QUIET stops before a character cut in two; only whole characters are kept.
        $bytes = Encode::encode('UTF-8', Encode::decode('UTF-8', $cut, Encode::FB_QUIET));
    }
    $bytes .= "\0";
    my ($source, $size) = scalar_to_buffer($bytes);
    memcpy($buffer, $source, $size);
}

# Runs the Perl sub and turns what it did into an en_delivery value and an optional reason.
sub _ask {
    my ($deliver, @arguments) = @_;
    local $@;
    my $delivered;
    return ($delivered ? EN_DELIVERED : EN_RETRY_LATER, undef)
        if eval { $delivered = $deliver->(@arguments); 1 };
    my $error = $@;
    return ($error->delivery_code, $error->reason)
        if blessed($error) && $error->isa('EN::Notify::Answer');
    $error = 'the delivery callback died' unless defined $error && length "$error";
    chomp(my $text = "$error");
    return (EN_RETRY_LATER, $text);
}

# An FFI closure around a Perl sub; the caller keeps it referenced while the engine may call it.
sub transport_closure {
    my ($deliver) = @_;
    my $closure = _platypus()->closure(sub {
        my (undef, $from, $recipients, $message, $length, $reason, $capacity) = @_;
        my ($answer, $text) = _ask($deliver, utf8_in($from),
            [split /\n/, utf8_in($recipients)], buffer_to_scalar($message, $length));
        _write_reason($reason, $capacity, $text) if defined $text && length $text;
        return $answer;
    });
    $closure->sticky;
    return $closure;
}

1;
