# The body of t/09-threads.t, run in its own perl so that a crash at exit shows in its status:
# a threaded host whose threads each open an engine on one database, notify and flush.
use strict;
use warnings;
use threads;
use Test::More;
use ENTest qw(sample_message);
use EN::Notify qw(:codes);

use constant { THREADS => 4, MESSAGES => 10 };

my $db = shift @ARGV or die "usage: $0 DATABASE\n";
my $main = EN::Notify->open($db, { EN_RetryBackoff => '0s' });
$main->set_mode('Deferred');
$main->set_transport(sub { 1 });    # a closure alive while the threads are copied

my @threads = map {
    my $thread = $_;
    threads->create(sub {
        my $copy_error = eval { $main->list; 1 } ? undef : $@;
        my $engine = EN::Notify->open($db, { EN_RetryBackoff => '0s' });
        my $delivered = 0;
        $engine->set_transport(sub { $delivered++; 1 });
        $engine->notify(sample_message(subject => "thread $thread message $_")) for 1 .. MESSAGES;
        my $report = $engine->flush;
        $engine->close;
        return { copy_error => ref $copy_error ? $copy_error->code : $copy_error,
                 sent => $report->{sent}, delivered => $delivered };
    });
} 1 .. THREADS;
my @results = map { $_->join } @threads;

is($_->{copy_error}, EN_ERR_INVALID_HANDLE, "thread $_->{thread}: the parent's copy croaks")
    for map { +{ %{ $results[$_] }, thread => $_ + 1 } } 0 .. $#results;
my ($sent, $delivered) = (0, 0);
$sent += $_->{sent}, $delivered += $_->{delivered} for @results;
is($sent, THREADS * MESSAGES, 'the flush reports count every message once');
is($delivered, THREADS * MESSAGES, 'the threads\' transports delivered every message once');

my $messages = $main->list;    # the copies' DESTROY did not close the parent's engine
is(scalar @$messages, THREADS * MESSAGES, 'every message is listed');
is_deeply([sort { $a cmp $b } map { $_->{subject} } @$messages],
    [sort { $a cmp $b } map { my $t = $_; map { "thread $t message $_" } 1 .. MESSAGES } 1 .. THREADS],
    'each thread\'s messages, no more');
is((grep { $_->{status} eq 'sent' } @$messages), THREADS * MESSAGES, 'all of them sent');
$main->close;

done_testing;
