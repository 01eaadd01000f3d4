# A recipient the relay refuses with 5xx fails the message at once.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use ENTest qw(fresh_db start_smtp_server sample_message);
use EN::Notify;

my $server = start_smtp_server('--reject', 'gone@example.com');
my $engine = EN::Notify->open(fresh_db(), { email_server => $server->address });

my $id = $engine->notify(sample_message(to => ['gone@example.com']));
my $report = $engine->flush;
is($report->{failed}, 1, 'the flush reports one failure');
is($report->{sent}, 0, 'and nothing sent');

my $shown = $engine->show($id);
is($shown->{status}, 'failed', 'status failed');
is($shown->{last_smtp_code}, 550, 'last_smtp_code 550');
like($shown->{last_error}, qr/gone\@example\.com/, 'the relay text names the recipient');
is(scalar($server->messages), 0, 'the server stored nothing');

my $mixed = $engine->notify(sample_message(to => ['gone@example.com', 'dev@example.com']));
is($engine->flush->{sent}, 1, 'one bad address does not hold back the others');
my $rejected = $engine->show($mixed)->{rejected};
is(scalar @$rejected, 1, 'one recipient recorded as refused');
like($rejected->[0], qr/^gone\@example\.com\b.*550/, 'the refused one, with the reply');
is_deeply([map { @{ $_->{envelope}{to} } } $server->messages], ['dev@example.com'],
    'the accepted one got it');

done_testing;
