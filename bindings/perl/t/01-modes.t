# Each delivery mode delivers a non-ASCII, text + HTML message to a real SMTP server.
use strict;
use warnings;
use utf8;
use Test::More;
use lib 't/lib';
use ENTest qw(fresh_db start_smtp_server sample_message);
use EN::Notify;

my $server = start_smtp_server();
my $engine = EN::Notify->open(fresh_db(), { email_server => $server->address });

my $seen = 0;
sub new_messages {
    my @all = $server->messages;
    my @new = @all[$seen .. $#all];
    $seen = @all;
    return @new;
}

sub check_delivered {
    my ($mode, $subject) = @_;
    my @got = new_messages();
    is(scalar @got, 1, "$mode: the server received one message");
    is($got[0]{subject}, $subject, "$mode: the Subject decodes back exactly");
    is_deeply($got[0]{envelope}{to}, ['dev@example.com'], "$mode: envelope recipients");
    is($got[0]{envelope}{from}, 'tracker@example.com', "$mode: envelope sender");
    like($got[0]{raw}, qr{^Content-Type: text/plain}mi, "$mode: has a text part");
    like($got[0]{raw}, qr{^Content-Type: text/html}mi, "$mode: has an HTML part");
}

{
    my $subject = 'Änderung: CR-42 — ready ✓ (Deferred)';
    $engine->set_mode('Deferred');
    my $id = $engine->notify(sample_message(subject => $subject));
    ok($id > 0, 'Deferred: notify stores the message');
    is(scalar(() = $server->messages), 0, 'Deferred: nothing sent before the flush');
    my $report = $engine->flush;
    is($report->{sent}, 1, 'Deferred: flush sends it');
    is($report->{held_by_mode}, 0, 'Deferred: flush is not held');
    check_delivered(Deferred => $subject);
    is($engine->show($id)->{status}, 'sent', 'Deferred: stored as sent');
}

{
    my $subject = 'Änderung: CR-42 — ready ✓ (Light)';
    $engine->set_mode('light');
    is($engine->get_property('EN_DeliveryMode'), 'Light', 'the mode reads back');
    is($engine->notify(sample_message(subject => $subject)), 0, 'Light: sent at once, nothing stored');
    check_delivered(Light => $subject);
    is($engine->flush->{sent}, 0, 'Light: the flush has nothing left to send');
}

{
    my $subject = 'Änderung: CR-42 — ready ✓ (Queue)';
    $engine->set_mode('Queue');
    my $id = $engine->notify(sample_message(subject => $subject));
    my $report = $engine->flush;
    is($report->{sent}, 0, 'Queue: flush sends nothing');
    is($report->{held_by_mode}, 1, 'Queue: flush says the mode held it');
    is(scalar(new_messages()), 0, 'Queue: the server received nothing');
    is($engine->list('queued')->[0]{id}, $id, 'Queue: the message waits in the queue');
    is($engine->drain->{sent}, 1, 'Queue: drain sends it');
    check_delivered(Queue => $subject);
}

is_deeply([sort map { $_->{subject} } @{ $engine->list('sent') }],
    [map { "Änderung: CR-42 — ready ✓ ($_)" } qw(Deferred Queue)], 'list shows the two stored messages');
my $status = $engine->status;
is($status->{sent}, 2, 'status counts the sent messages');
is($status->{queued}, 0, 'status counts no queued message');

$engine->close;
done_testing;
