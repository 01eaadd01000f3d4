# Many notifies in a row from one object: every id is unique, listed, and delivered.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use ENTest qw(fresh_db start_smtp_server sample_message);
use EN::Notify;

my $server = start_smtp_server();
my $engine = EN::Notify->open(fresh_db(), { email_server => $server->address });

my @ids = map { $engine->notify(sample_message(subject => "CR-$_ changed")) } 1 .. 50;
my %unique = map { $_ => 1 } @ids;
is(scalar keys %unique, 50, '50 distinct ids');
ok(!grep({ $_ <= 0 } @ids), 'every id is positive');
is_deeply([sort { $a <=> $b } map { $_->{id} } @{ $engine->list('queued') }],
    [sort { $a <=> $b } @ids], 'all 50 are listed as queued');

is($engine->flush->{sent}, 50, 'one flush sends them all');
my @received = $server->messages;
is(scalar @received, 50, 'the server received 50 messages');
is_deeply([sort map { $_->{subject} } @received], [sort map { "CR-$_ changed" } 1 .. 50],
    'each subject once');

done_testing;
