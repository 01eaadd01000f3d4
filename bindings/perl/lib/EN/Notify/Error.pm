package EN::Notify::Error;
# The exception every EN::Notify call throws: the library's result code and its text.
use strict;
use warnings;
use Carp ();
use overload '""' => \&as_string, fallback => 1;

our $VERSION = '0.1.0';

sub new {
    my ($class, %fields) = @_;
    return bless { code => $fields{code}, message => $fields{message} }, $class;
}

sub throw {
    my $class = shift;
    Carp::croak($class->new(@_));
}

sub code    { $_[0]{code} }
sub message { $_[0]{message} }

sub as_string {
    my ($self) = @_;
    return "en-notify error $self->{code}: $self->{message}";
}

1;

__END__

=head1 NAME

EN::Notify::Error - the exception thrown by EN::Notify

=head1 SYNOPSIS

    my $id = eval { $engine->notify($message) };
    if (my $e = $@) {
        die $e unless ref $e && $e->isa('EN::Notify::Error');
        warn "rejected: ", $e->message, "\n" if $e->code == 4;
    }

=head1 DESCRIPTION

C<code> is the library's C<en_result> value (see L<EN::Notify/"RESULT CODES">) and C<message> is
the text of C<en_last_error()>, already decoded from UTF-8. The object stringifies as
C<en-notify error CODE: MESSAGE>.

=cut
