package EN::Notify::ThreadLocal;
# A hash Perl never copies into a new ithread (the copy is an unblessed undef). It holds
# FFI::Platypus objects and closures: FFI::Platypus 2.05 frees their C parts once per copy, so a
# copied one crashes the program at exit.
use strict;
use warnings;

our $VERSION = '0.1.0';

sub new {
    my ($class, %fields) = @_;
    return bless {%fields}, $class;
}

sub CLONE_SKIP { 1 }

1;
