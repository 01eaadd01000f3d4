package EN::Notify::Answer;
# What a transport callback dies with to answer other than "delivered".
use strict;
use warnings;
use overload '""' => sub { $_[0]->reason }, fallback => 1;

our $VERSION = '0.1.0';

sub new {
    my ($class, $reason) = @_;
    return bless { reason => defined $reason ? "$reason" : '' }, $class;
}

sub reason { $_[0]{reason} }

package EN::Notify::RetryLater;
our @ISA = ('EN::Notify::Answer');
sub delivery_code { 2 }    # EN_RETRY_LATER

package EN::Notify::Failed;
our @ISA = ('EN::Notify::Answer');
sub delivery_code { 3 }    # EN_FAILED

1;

__END__

=head1 NAME

EN::Notify::Answer - EN::Notify::RetryLater and EN::Notify::Failed, a transport callback's answers

=head1 SYNOPSIS

    $engine->set_transport(sub {
        my ($from, $recipients, $message) = @_;
        die EN::Notify::RetryLater->new('gateway is down') unless gateway_up();
        die EN::Notify::Failed->new('no such mailbox') if unknown($recipients);
        return 1;
    });

=head1 DESCRIPTION

C<EN::Notify::RetryLater-E<gt>new($reason)> makes the engine count an attempt and retry after the
back-off; C<EN::Notify::Failed-E<gt>new($reason)> fails the message at once. The reason is recorded
in the attempt log and in C<last_error>. See L<EN::Notify/set_transport>.

=cut
