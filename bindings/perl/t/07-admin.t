# Properties, resend, reset_attempts and purge as an administrator uses them.
use strict;
use warnings;
use utf8;
use Test::More;
use lib 't/lib';
use ENTest qw(fresh_db start_smtp_server sample_message);
use EN::Notify qw(:codes);

my $server = start_smtp_server('--tempfail', 'busy@example.com');
my $engine = EN::Notify->open(fresh_db(), { email_server => $server->address });

subtest properties => sub {
    $engine->set_property('email_from', 'Jürgen Müller <tracker@example.com>');
    is($engine->get_property('EMAIL_FROM'), 'Jürgen Müller <tracker@example.com>',
        'a non-ASCII value reads back, name case-insensitive');
    $engine->set_property('email_from', undef);
    is($engine->get_property('email_from'), undef, 'undef removes it');
    $engine->set_property('EN_DeliveryAttempt', 2);
    is($engine->get_property('EN_DeliveryAttempt'), '2', 'a number is stored');
    my $error = eval { $engine->set_property('EN_NoSuchThing', 'x'); 1 } ? undef : $@;
    is($error && $error->code, EN_ERR_INVALID_PROPERTY, 'an unknown property: code 6');
};

subtest 'resend, reset_attempts, purge' => sub {
    my $busy = $engine->notify(sample_message(to => ['busy@example.com']));
    is($engine->resend($busy)->{deferred}, 1, 'a 4xx defers');
    is($engine->resend($busy)->{failed}, 1, 'the attempt limit fails it');
    is($engine->show($busy)->{status}, 'failed', 'failed');
    $engine->reset_attempts($busy);
    my $reset = $engine->show($busy);
    is($reset->{status}, 'queued', 'reset queues it again');
    is($reset->{attempts}, 0, 'with no attempts');

    my $error = eval { $engine->resend(999_999); 1 } ? undef : $@;
    is($error && $error->code, EN_ERR_NOT_FOUND, 'an unknown id: code 9');

    my $ok = $engine->notify(sample_message());
    is($engine->resend($ok)->{sent}, 1, 'resend sends one message now');
    is($engine->purge('sent', 3600), 0, 'nothing sent more than an hour ago');
    is($engine->purge('sent', 0), 1, 'purge removes the sent one');
    is_deeply([map { $_->{id} } @{ $engine->list }], [$busy], 'only the queued one is left');
};

done_testing;
