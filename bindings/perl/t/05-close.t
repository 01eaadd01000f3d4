# Closing: twice is fine, DESTROY closes, use after close croaks with a clean error.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use ENTest qw(fresh_db sample_message);
use EN::Notify qw(:codes);

my $db = fresh_db();
my $engine = EN::Notify->open($db);
$engine->set_mode('Queue');
my $id = $engine->notify(sample_message());
$engine->set_transport(sub { 1 });

ok(!$engine->is_closed, 'open');
ok(eval { $engine->close; 1 }, 'close');
ok($engine->is_closed, 'closed');
ok(eval { $engine->close; 1 }, 'a second close is fine');

for my $call (
    [notify       => sub { $engine->notify(sample_message()) }],
    [flush        => sub { $engine->flush }],
    [list         => sub { $engine->list }],
    [get_property => sub { $engine->get_property('EN_DeliveryMode') }],
    [set_transport => sub { $engine->set_transport(sub { 1 }) }],
) {
    my ($name, $code) = @$call;
    my $error = eval { $code->(); 1 } ? undef : $@;
    isa_ok($error, 'EN::Notify::Error', "$name after close");
    is($error && $error->code, EN_ERR_INVALID_HANDLE, "$name after close: code 13");
}

{
    my $scoped = EN::Notify->open($db);
    is($scoped->list->[0]{id}, $id, 'the database outlives the engine');
}
my $again = EN::Notify->open($db);
is($again->show($id)->{status}, 'queued', 'reopened after DESTROY closed the other one');
undef $again;
pass('DESTROY after use is quiet');

done_testing;
