# C cuts a string at an embedded NUL, so every string argument with one croaks with code 8,
# naming the argument, and nothing reaches the library.
use strict;
use warnings;
use Test::More;
use JSON::PP ();
use lib 't/lib';
use ENTest qw(fresh_db sample_message);
use EN::Notify qw(:codes);

my $engine = EN::Notify->open(fresh_db());

sub refused_with_nul {
    my ($what, $call) = @_;
    my $error = eval { $call->(); 1 } ? undef : $@;
    isa_ok($error, 'EN::Notify::Error', $what);
    return unless ref $error;
    is($error->code, EN_ERR_INVALID_ARGUMENT, "$what: code 8");
    like($error->message, qr/^\Q$what\E contains a NUL character/, "$what: the message names it");
}

refused_with_nul('set_property: the value',
    sub { $engine->set_property(email_from => "a\@example.com\0 evil") });
refused_with_nul('set_property: the name',
    sub { $engine->set_property("email_from\0x" => 'a@example.com') });
refused_with_nul('get_property: the name', sub { $engine->get_property("email_from\0") });
refused_with_nul('notify: the message',
    sub { $engine->notify(JSON::PP->new->encode(sample_message()) . "\0garbage") });
refused_with_nul('set_mode: the mode', sub { $engine->set_mode("Queue\0") });
refused_with_nul('list: the status', sub { $engine->list("queued\0") });
refused_with_nul('purge: the status', sub { $engine->purge("all\0", 0) });
my $path = fresh_db();
refused_with_nul('open: the database path', sub { EN::Notify->open("$path\0.other") });
ok(!-e $path, 'no database was created at the path cut at the NUL');

is($engine->get_property('email_from'), undef, 'email_from is still unset');
is($engine->get_property('EN_DeliveryMode'), 'Deferred', 'the mode is unchanged');
is_deeply($engine->list, [], 'nothing was stored');

done_testing;
