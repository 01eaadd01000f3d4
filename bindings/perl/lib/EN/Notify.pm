package EN::Notify;
# The engine as a Perl object: converts arguments and results, nothing more.
use strict;
use warnings;
use Carp ();
use Exporter 'import';
use JSON::PP ();
use EN::Notify::FFI;

our $VERSION = '0.1.0';

my %RESULT_CODES;
BEGIN {
    %RESULT_CODES = (
        EN_OK => 0, EN_ERR_NULL_ARGUMENT => 1, EN_ERR_INVALID_UTF8 => 2, EN_ERR_INVALID_JSON => 3,
        EN_ERR_INVALID_MESSAGE => 4, EN_ERR_MESSAGE_TOO_LARGE => 5, EN_ERR_INVALID_PROPERTY => 6,
        EN_ERR_INVALID_MODE => 7, EN_ERR_INVALID_ARGUMENT => 8, EN_ERR_NOT_FOUND => 9,
        EN_ERR_STORE => 10, EN_ERR_CONFIG => 11, EN_ERR_BUSY => 12, EN_ERR_INVALID_HANDLE => 13,
        EN_ERR_PANIC => 14,
    );
}
use constant \%RESULT_CODES;
our @EXPORT_OK   = keys %RESULT_CODES;
our %EXPORT_TAGS = (codes => [keys %RESULT_CODES]);

my $json = JSON::PP->new->canonical;    # works on characters; UTF-8 is done at the boundary

sub version { EN::Notify::FFI::utf8_in(EN::Notify::FFI::en_version()) }

sub open {
    my ($class, $db_path, $options) = @_;
    Carp::croak('EN::Notify->open: options must be a hash reference')
        if defined $options && ref $options ne 'HASH';
    my $handle;
    EN::Notify::FFI::check(EN::Notify::FFI::en_open(
        EN::Notify::FFI::utf8_out($db_path),
        defined $options ? EN::Notify::FFI::utf8_out($json->encode($options)) : undef,
        \$handle));
    return bless { handle => $handle, transports => [] }, $class;
}

sub _handle {
    my ($self) = @_;
    return $self->{handle} // EN::Notify::FFI::closed_error();
}

sub _call {
    my ($self, $function, @arguments) = @_;
    EN::Notify::FFI::check($function->($self->_handle, @arguments));
}

sub _report {
    my ($self, $function, @arguments) = @_;
    my $report = EN::Notify::Report->new;
    $self->_call($function, @arguments, $report);
    return $report->as_hash;
}

sub _json {
    my ($self, $function, @arguments) = @_;
    my $pointer;
    $self->_call($function, @arguments, \$pointer);
    return $json->decode(EN::Notify::FFI::take_string($pointer));
}

sub notify {
    my ($self, $message) = @_;
    my $text = ref $message ? $json->encode($message) : $message;
    my $id;
    $self->_call(\&EN::Notify::FFI::en_notify, EN::Notify::FFI::utf8_out($text), \$id);
    return $id;
}

sub flush { $_[0]->_report(\&EN::Notify::FFI::en_flush) }
sub drain { $_[0]->_report(\&EN::Notify::FFI::en_drain) }

sub resend {
    my ($self, $id) = @_;
    return $self->_report(\&EN::Notify::FFI::en_resend, $id);
}

sub set_mode {
    my ($self, $mode) = @_;
    $self->_call(\&EN::Notify::FFI::en_set_mode, EN::Notify::FFI::utf8_out($mode));
    return;
}

sub reset_attempts {
    my ($self, $id) = @_;
    $self->_call(\&EN::Notify::FFI::en_reset_attempts, $id);
    return;
}

sub purge {
    my ($self, $status, $older_than_seconds) = @_;
    my $removed;
    $self->_call(\&EN::Notify::FFI::en_purge, EN::Notify::FFI::utf8_out($status),
        $older_than_seconds // 0, \$removed);
    return $removed;
}

sub get_property {
    my ($self, $name) = @_;
    my $pointer;
    $self->_call(\&EN::Notify::FFI::en_get_property, EN::Notify::FFI::utf8_out($name), \$pointer);
    return EN::Notify::FFI::take_string($pointer);
}

sub set_property {
    my ($self, $name, $value) = @_;
    $self->_call(\&EN::Notify::FFI::en_set_property, EN::Notify::FFI::utf8_out($name),
        EN::Notify::FFI::utf8_out($value));
    return;
}

sub list {
    my ($self, $status) = @_;
    return $self->_json(\&EN::Notify::FFI::en_list, EN::Notify::FFI::utf8_out($status));
}

sub show {
    my ($self, $id) = @_;
    return $self->_json(\&EN::Notify::FFI::en_show, $id);
}

sub status { $_[0]->_json(\&EN::Notify::FFI::en_status) }

# Every closure handed to the engine stays alive until close: the engine may still hold it.
sub set_transport {
    my ($self, $deliver) = @_;
    Carp::croak('EN::Notify->set_transport: expects a code reference or undef')
        if defined $deliver && ref $deliver ne 'CODE';
    my $closure = defined $deliver ? EN::Notify::FFI::transport_closure($deliver) : undef;
    push @{ $self->{transports} }, $closure if $closure;
    $self->_call(\&EN::Notify::FFI::en_set_transport, $closure, undef);
    return;
}

sub close {
    my ($self) = @_;
    my $handle = delete $self->{handle};
    return unless defined $handle;
    my $code = EN::Notify::FFI::en_close($handle);
    $_->unstick for @{ $self->{transports} };
    $self->{transports} = [];
    EN::Notify::FFI::check($code);
    return;
}

sub is_closed { !defined $_[0]{handle} }

sub DESTROY {
    my ($self) = @_;
    local ($@, $!, $?);
    eval { $self->close };
}

# A cloned thread must not close the parent's engine.
sub CLONE_SKIP { 1 }

1;
