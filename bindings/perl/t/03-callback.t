# A Perl sub as the transport: its answers, its dies, and going back to SMTP.
use strict;
use warnings;
use utf8;
use Test::More;
use lib 't/lib';
use ENTest qw(fresh_db start_smtp_server sample_message poll_until);
use EN::Notify;

my $server = start_smtp_server();
my $engine = EN::Notify->open(fresh_db(),
    { email_server => $server->address, EN_RetryBackoff => '0s' });

# Flushes until a flush does something (the engine waits at least 1 ms before a retry).
sub flush_until_sent {
    return poll_until(5, sub { $engine->flush->{sent} });
}

subtest 'retry later once, then delivered' => sub {
    my @calls;
    $engine->set_transport(sub {
        push @calls, [@_];
        die EN::Notify::RetryLater->new('relay busy, später') if @calls == 1;
        return 1;
    });
    my $id = $engine->notify(sample_message(cc => ['lead@example.com']));

    is($engine->flush->{deferred}, 1, 'the first flush defers it');
    my $after_first = $engine->show($id);
    is($after_first->{status}, 'queued', 'queued after the first attempt');
    is($after_first->{attempts}, 1, 'one attempt counted');
    is($after_first->{last_error}, 'relay busy, später', 'the reason is recorded, UTF-8 intact');

    is(flush_until_sent(), 1, 'a later flush delivers it');
    my $after_second = $engine->show($id);
    is($after_second->{status}, 'sent', 'sent');
    is($after_second->{attempts}, 2, 'two attempts counted');
    is(scalar @{ $after_second->{attempt_log} }, 2, 'two rows in the attempt log');

    my ($from, $recipients, $bytes) = @{ $calls[-1] };
    is($from, 'tracker@example.com', 'the callback gets the sender');
    is_deeply([sort @$recipients], ['dev@example.com', 'lead@example.com'], 'and the recipients');
    ok(!utf8::is_utf8($bytes), 'the message arrives as bytes');
    like($bytes, qr/^Subject: =\?utf-8\?/mi, 'the message is the rendered MIME text');
    is(scalar($server->messages), 0, 'nothing went to the SMTP server');
};

subtest 'a callback that dies' => sub {
    $engine->set_transport(sub { die "boom\n" });
    my $id = $engine->notify(sample_message());
    is($engine->flush->{deferred}, 1, 'the flush defers it');
    my $shown = $engine->show($id);
    is($shown->{status}, 'queued', 'still queued');
    like($shown->{last_error}, qr/boom/, 'the die text is the reason');

    $engine->set_transport(undef);
    is(flush_until_sent(), 1, 'back on SMTP, a later flush delivers it');
    is(scalar($server->messages), 1, 'the SMTP server received it');
};

subtest 'a callback that fails the message or returns false' => sub {
    $engine->set_transport(sub { die EN::Notify::Failed->new('no such mailbox') });
    my $failed = $engine->notify(sample_message());
    is($engine->flush->{failed}, 1, 'Failed fails it at once');
    is($engine->show($failed)->{status}, 'failed', 'status failed');
    is($engine->show($failed)->{last_error}, 'no such mailbox', 'with the reason');

    $engine->set_transport(sub { return 0 });
    my $deferred = $engine->notify(sample_message());
    is($engine->flush->{deferred}, 1, 'a false return means retry later');
    is($engine->show($deferred)->{status}, 'queued', 'still queued');

    my $long = 'ä' x 2000;
    $engine->set_transport(sub { die EN::Notify::RetryLater->new($long) });
    is($engine->resend($deferred)->{deferred}, 1, 'resend goes through the callback too');
    my $reason = $engine->show($deferred)->{last_error};
    like($reason, qr/\Aä{100,}\z/, 'a long reason is cut on a character boundary');
};

$engine->close;
done_testing;
