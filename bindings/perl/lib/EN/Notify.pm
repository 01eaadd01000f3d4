package EN::Notify;
# The engine as a Perl object: converts arguments and results, nothing more.
use strict;
use warnings;
use Carp ();
use Exporter 'import';
use JSON::PP ();
use EN::Notify::FFI;
use EN::Notify::ThreadLocal;

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
        EN::Notify::FFI::utf8_out($db_path, 'open: the database path'),
        defined $options ? EN::Notify::FFI::utf8_out($json->encode($options), 'open: the options') : undef,
        \$handle));
    return bless {
        handle     => $handle,
        thread     => _thread_id(),
        calls      => 0,    # calls into the library in progress, see _in_call
        transports => EN::Notify::ThreadLocal->new(closures => []),
    }, $class;
}

sub _thread_id { $INC{'threads.pm'} ? threads->tid : 0 }

# A copy of the object in another ithread shares the handle but not the transport closures,
# which only the opening thread's interpreter can run: it may do nothing, not even close.
sub _check_thread {
    my ($self) = @_;
    return if $self->{thread} == _thread_id();
    EN::Notify::Error->throw(code => EN_ERR_INVALID_HANDLE(),
        message => "the engine belongs to thread $self->{thread}; open one in each thread");
}

sub _handle {
    my ($self) = @_;
    $self->_check_thread;
    return $self->{handle} // EN::Notify::FFI::closed_error();
}

# Runs one call into the library with the handle. While any call is in progress the engine may
# still call the transport closures, even after a close from inside a callback, so close leaves
# releasing them to the last call to return.
sub _in_call {
    my ($self, $run) = @_;
    my $handle = $self->_handle;
    $self->{calls}++;
    my $result;
    my $ok = eval { $result = $run->($handle); 1 };
    my $error = $@;
    $self->_release_closures if --$self->{calls} == 0 && $self->is_closed;
    die $error unless $ok;
    return $result;
}

sub _call {
    my ($self, $function, @arguments) = @_;
    $self->_in_call(sub { EN::Notify::FFI::check($function->($_[0], @arguments)) });
    return;
}

sub _report {
    my ($self, $function, @arguments) = @_;
    return $self->_in_call(sub { EN::Notify::FFI::call_with_report($function, $_[0], @arguments) });
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
    $self->_call(\&EN::Notify::FFI::en_notify, EN::Notify::FFI::utf8_out($text, 'notify: the message'), \$id);
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
    $self->_call(\&EN::Notify::FFI::en_set_mode, EN::Notify::FFI::utf8_out($mode, 'set_mode: the mode'));
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
    $self->_call(\&EN::Notify::FFI::en_purge, EN::Notify::FFI::utf8_out($status, 'purge: the status'),
        $older_than_seconds // 0, \$removed);
    return $removed;
}

sub get_property {
    my ($self, $name) = @_;
    my $pointer;
    $self->_call(\&EN::Notify::FFI::en_get_property,
        EN::Notify::FFI::utf8_out($name, 'get_property: the name'), \$pointer);
    return EN::Notify::FFI::take_string($pointer);
}

sub set_property {
    my ($self, $name, $value) = @_;
    $self->_call(\&EN::Notify::FFI::en_set_property,
        EN::Notify::FFI::utf8_out($name, 'set_property: the name'),
        EN::Notify::FFI::utf8_out($value, 'set_property: the value'));
    return;
}

sub list {
    my ($self, $status) = @_;
    return $self->_json(\&EN::Notify::FFI::en_list, EN::Notify::FFI::utf8_out($status, 'list: the status'));
}

sub show {
    my ($self, $id) = @_;
    return $self->_json(\&EN::Notify::FFI::en_show, $id);
}

sub status { $_[0]->_json(\&EN::Notify::FFI::en_status) }

# Every closure handed to the engine stays alive until close (or, for a close from inside a
# callback, until the call in progress returns): the engine may still hold it.
sub set_transport {
    my ($self, $deliver) = @_;
    Carp::croak('EN::Notify->set_transport: expects a code reference or undef')
        if defined $deliver && ref $deliver ne 'CODE';
    my $closure = defined $deliver ? EN::Notify::FFI::transport_closure($deliver) : undef;
    push @{ $self->{transports}{closures} }, $closure if $closure;
    $self->_call(\&EN::Notify::FFI::en_set_transport, $closure, undef);
    return;
}

sub close {
    my ($self) = @_;
    return unless defined $self->{handle};
    $self->_check_thread;
    my $code = EN::Notify::FFI::en_close(delete $self->{handle});
    $self->_release_closures unless $self->{calls};
    EN::Notify::FFI::check($code);
    return;
}

sub _release_closures {
    my ($self) = @_;
    my $closures = $self->{transports}{closures};
    $_->unstick for @$closures;
    @$closures = ();
}

sub is_closed { !defined $_[0]{handle} }

sub DESTROY {
    my ($self) = @_;
    local ($@, $!, $?);
    eval { $self->close };    # a copy in another thread croaks here and closes nothing
}

1;

__END__

=encoding utf8

=head1 NAME

EN::Notify - deliver issue-tracker notifications through the en-notify engine

=head1 SYNOPSIS

    use EN::Notify;

    my $engine = EN::Notify->open('/shared/en-notify.db',
        { email_server => 'smtp.example.com:25' });
    my $id = $engine->notify({
        from    => 'tracker@example.com',
        to      => ['dev@example.com'],
        subject => "Änderung: CR-42 — ready ✓",
        text    => "CR-42 is ready.\n",
        html    => '<p>CR-42 is <b>ready</b>.</p>',
    });
    my $report = $engine->flush;    # at the end of the user's action
    printf "sent %d, deferred %d\n", $report->{sent}, $report->{deferred};
    $engine->close;

=head1 DESCRIPTION

A thin binding of the en-notify C library (L<FFI::Platypus>). Every message goes through a
database-backed queue shared by all clients; the delivery mode (C<Deferred>, C<Light>, C<Queue>)
is stored in the database and decides what C<notify> and C<flush> do. The engine decides
everything; this module converts Perl values, turns result codes into exceptions and manages the
handle's lifetime.

Text goes in and out as Perl character strings: the module encodes to UTF-8 on the way in and
decodes on the way out. JSON is handled with L<JSON::PP>. A string argument that contains C<"\0">
(which C would cut there) croaks with code 8 (C<EN_ERR_INVALID_ARGUMENT>) and a message naming
the argument, e.g. C<set_property: the value contains a NUL character at offset 13 ...>; nothing
reaches the library. A NUL inside a message given as a hash is JSON-escaped, so it is not cut.

=head2 Finding the library

When the module loads it looks for C<liben_notify.so> (or C<en_notify.dll>):

=over

=item 1. the file named by C<EN_NOTIFY_LIBRARY>, when that variable is set (nothing else then);

=item 2. next to F<EN/Notify.pm>;

=item 3. in F<target/release> then F<target/debug> of the module's folder and each folder above
it, then of the current directory and each folder above it.

=back

If none exists, C<use EN::Notify> croaks and lists every place it looked.

=head1 METHODS

Every method croaks with an L<EN::Notify::Error> when the library returns an error, and with code
13 (C<EN_ERR_INVALID_HANDLE>) when the engine is closed.

=head2 open

    my $engine = EN::Notify->open($db_path, \%options);

Opens, creating if needed, the queue database. C<%options> (optional) overrides properties for this
process only, e.g. C<< { email_server => '127.0.0.1:2525', EN_RetryBackoff => '0s' } >>.

=head2 notify

    my $id = $engine->notify(\%message);    # or a JSON text (a character string)

Validates and hands over one message. Fields: C<from>, C<reply_to>, C<to>, C<cc>, C<bcc>,
C<subject>, C<text>, C<html>, C<headers> (name =E<gt> value), C<priority> (C<high>, C<normal>,
C<low>), C<source>. Returns the message id, or 0 when Light mode delivered it at once and stored
nothing. A bad message (no recipient, a bad address, CR/LF in a header, an unknown field) croaks
with code 4 and nothing is stored.

=head2 flush

    my $report = $engine->flush;

Delivers every eligible message, this client's and any left behind by others. In Queue mode it
delivers nothing and C<held_by_mode> is 1. The report is a hash reference
C<< { sent, deferred, failed, held_by_mode, delivery_disabled } >>: three counts and two flags
(1 or 0).

=head2 drain

    my $report = $engine->drain;

Like C<flush>, whatever the mode: for delivery servers (see F<examples/deliver.pl>).

=head2 set_mode

    $engine->set_mode('Queue');    # Deferred, Light or Queue, any case

Stores the delivery mode for every client of the database.

=head2 resend

    my $report = $engine->resend($id);

Delivers one message now, whatever its attempts, back-off or status.

=head2 reset_attempts

    $engine->reset_attempts($id);

Sets a message's attempts to 0 and makes it eligible now; a failed message is queued again.

=head2 purge

    my $removed = $engine->purge('sent', 7 * 86400);    # 'sent', 'failed' or 'all'

Removes finished messages last changed more than that many seconds ago; returns how many.

=head2 get_property, set_property

    my $value = $engine->get_property('EN_DeliveryAttempt');
    $engine->set_property('email_server', 'smtp.example.com:25');
    $engine->set_property('email_from', undef);    # back to the default

Property names are case-insensitive. C<get_property> returns the value in force for this engine,
or undef when unset with no default; the password reads back masked. C<set_property> stores a
value for every client; undef removes it.

=head2 list

    my $messages = $engine->list;            # or ->list('queued'), 'sending', 'sent', 'failed'

An array reference of hash references: C<id>, C<status>, C<attempts>, C<priority>,
C<message_id>, C<subject>, C<from>, C<recipients>, C<rejected>, C<source>, C<created_at>,
C<next_attempt_at>, C<sent_at>, C<last_error>, C<last_smtp_code>.

=head2 show

    my $message = $engine->show($id);

One message as in C<list>, plus C<attempt_log> (an array of
C<< { at, host, pid, outcome, smtp_code, text } >>) and C<raw> (the MIME text).

=head2 status

    my $counts = $engine->status;

Counts by status and the oldest waiting message, as a hash reference.

=head2 set_transport

    $engine->set_transport(sub {
        my ($from, $recipients, $message) = @_;    # string, array ref, bytes
        ...;
        return 1;                                   # delivered
    });
    $engine->set_transport(undef);                  # back to SMTP or pickup

Delivers through a Perl sub instead of SMTP or pickup, for this engine only. The sub receives the
envelope sender, an array reference of recipients and the RFC 5322 message as bytes. It answers:

=over

=item * a true return: delivered to every recipient;

=item * a false return: retry later (the engine records its own reason);

=item * C<die EN::Notify::RetryLater-E<gt>new($reason)>: retry later after the back-off;

=item * C<die EN::Notify::Failed-E<gt>new($reason)>: the message fails at once;

=item * any other C<die>: retry later, with the error text as the reason.

=back

The sub is called in the thread that called C<notify>, C<flush>, C<drain> or C<resend>. It stays
alive until the engine is closed. The sub may close the engine: the flush in progress then
finishes through the same sub, and the engine is closed once it returns.

=head2 close

    $engine->close;

Closes the engine. Closing again does nothing; C<DESTROY> closes too. After C<close>, every other
method croaks with code 13.

=head2 is_closed

True after C<close>.

=head2 version

    print EN::Notify->version;

The library's version.

=head1 ERRORS

Errors are L<EN::Notify::Error> objects with C<code> and C<message>; they stringify as
C<en-notify error CODE: MESSAGE>:

    my $id = eval { $engine->notify($message) };
    warn "not queued: ", $@->message, "\n"
        if ref $@ && $@->code == EN::Notify::EN_ERR_INVALID_MESSAGE();

=head2 RESULT CODES

Exported on request, or all with C<use EN::Notify qw(:codes)>:

    EN_OK 0                     EN_ERR_INVALID_ARGUMENT 8
    EN_ERR_NULL_ARGUMENT 1      EN_ERR_NOT_FOUND 9
    EN_ERR_INVALID_UTF8 2       EN_ERR_STORE 10
    EN_ERR_INVALID_JSON 3       EN_ERR_CONFIG 11
    EN_ERR_INVALID_MESSAGE 4    EN_ERR_BUSY 12
    EN_ERR_MESSAGE_TOO_LARGE 5  EN_ERR_INVALID_HANDLE 13
    EN_ERR_INVALID_PROPERTY 6   EN_ERR_PANIC 14
    EN_ERR_INVALID_MODE 7

=head1 THREADS AND PROCESSES

The library's engine is thread-safe and several processes may share one database. The binding works
in threaded Perls (ithreads): open one engine in each thread that sends, on the same database file
if you like; the engines share the queue as separate processes do.

An C<EN::Notify> object belongs to the thread that opened it. When Perl copies it into a new
thread, the copy refers to the same engine, but every method on it, C<close> included, croaks with
code 13 (C<EN_ERR_INVALID_HANDLE>), and its C<DESTROY> closes nothing: only the opening thread
closes the engine, once. The copy cannot be used because a transport sub set with
C<set_transport> can run only in the thread that set it.

=head1 SEE ALSO

F<include/en_notify.h> (the C ABI), F<examples/hook.pl>, F<examples/deliver.pl>,
L<EN::Notify::Error>, L<EN::Notify::Answer>.

=cut
