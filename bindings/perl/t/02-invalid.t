# A message the library refuses croaks with code 4 and the library's text; nothing is stored.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use ENTest qw(fresh_db sample_message);
use EN::Notify qw(:codes);

my $engine = EN::Notify->open(fresh_db());

sub refusal {
    my ($message) = @_;
    return eval { $engine->notify($message); 1 } ? undef : $@;
}

my $no_recipient = refusal(sample_message(to => []));
isa_ok($no_recipient, 'EN::Notify::Error', 'no recipient');
is($no_recipient->code, EN_ERR_INVALID_MESSAGE, 'no recipient: code 4');
like($no_recipient->message, qr/recipient/, 'no recipient: the library says why');
is("$no_recipient", 'en-notify error 4: ' . $no_recipient->message, 'the error stringifies');

my $header_break = refusal(sample_message(subject => "CR-42\r\nBcc: someone\@example.com"));
isa_ok($header_break, 'EN::Notify::Error', 'CR/LF in the subject');
is($header_break->code, 4, 'CR/LF in the subject: code 4');
like($header_break->message, qr/subject.*CR or LF/, 'CR/LF in the subject: the library says why');

my $bad_json = refusal('{"from": ');
is($bad_json->code, EN_ERR_INVALID_JSON, 'a JSON text that does not parse: code 3');

my $bad_mode = eval { $engine->set_mode('Sometimes'); 1 } ? undef : $@;
is($bad_mode->code, EN_ERR_INVALID_MODE, 'an unknown mode: code 7');

is_deeply($engine->list, [], 'nothing was stored');

my $no_folder = eval { EN::Notify->open('/nonexistent-folder/queue.db'); 1 } ? undef : $@;
isa_ok($no_folder, 'EN::Notify::Error', 'opening in a missing folder');
is($no_folder->code, EN_ERR_STORE, 'opening in a missing folder: code 10');

my $bad_option = eval { EN::Notify->open(fresh_db(), { EN_NoSuchThing => 1 }); 1 } ? undef : $@;
is($bad_option->code, EN_ERR_INVALID_PROPERTY, 'an unknown option: code 6');

done_testing;
