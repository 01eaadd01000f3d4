package EN::Notify::Report;
# The C struct en_report: three uint64 counts, two one-byte bools, padded to 32 bytes.
use strict;
use warnings;
use FFI::Platypus::Record;

our $VERSION = '0.1.0';

record_layout_1(
    uint64     => 'sent',
    uint64     => 'deferred',
    uint64     => 'failed',
    uint8      => 'held_by_mode',
    uint8      => 'delivery_disabled',
    'uint8[6]' => '_padding',
);

sub as_hash {
    my ($self) = @_;
    return {
        sent              => $self->sent,
        deferred          => $self->deferred,
        failed            => $self->failed,
        held_by_mode      => $self->held_by_mode ? 1 : 0,
        delivery_disabled => $self->delivery_disabled ? 1 : 0,
    };
}

1;
