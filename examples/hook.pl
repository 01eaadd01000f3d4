#!/usr/bin/env perl
# An issue-tracker action hook: builds one notification, hands it to en-notify, flushes.
#
# Run it against a relay with --smtp HOST:PORT (or EN_NOTIFY_SMTP); without one, each message
# becomes an .eml file in --pickup-dir. Uses the EN::Notify module from this checkout and finds
# the library through EN_NOTIFY_LIBRARY or the cargo target folder.
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/../bindings/perl/lib";
use Getopt::Long qw(GetOptions);
use EN::Notify;

binmode STDOUT, ':encoding(UTF-8)';
binmode STDERR, ':encoding(UTF-8)';

my %option = (
    db         => $ENV{EN_NOTIFY_DB} // 'en-notify.db',
    smtp       => $ENV{EN_NOTIFY_SMTP},
    pickup_dir => $ENV{EN_NOTIFY_PICKUP_DIR} // 'outbox',
    record     => 'CR-42',
    to         => [],
);
GetOptions('db=s' => \$option{db}, 'smtp=s' => \$option{smtp},
    'pickup-dir=s' => \$option{pickup_dir}, 'to=s@' => $option{to}, 'record=s' => \$option{record})
    or die "usage: $0 [--db FILE] [--smtp HOST:PORT | --pickup-dir DIR] [--to ADDR]... [--record ID]\n";

# What a notification rule would produce for a state change of the record.
sub notification {
    my ($record, $recipients) = @_;
    return {
        from    => 'tracker@example.com',
        to      => $recipients,
        subject => "Änderung: $record — ready ✓",
        text    => "$record moved to Ready.\n",
        html    => "<p><b>$record</b> moved to <i>Ready</i>.</p>",
        source  => $record,
    };
}

my $options = defined $option{smtp}
    ? { email_server => $option{smtp} }
    : { email_transport => 'pickup', email_pickup_dir => $option{pickup_dir} };
my $engine = EN::Notify->open($option{db}, $options);
my ($id, $report) = eval {
    my $id = $engine->notify(notification($option{record}, @{ $option{to} } ? $option{to} : ['dev@example.com']));
    ($id, $engine->flush);
};
if (!defined $report) {
    print STDERR "notification failed: $@\n";
    exit 1;
}
$engine->close;

my $where = $id == 0 ? 'delivered at once (Light mode)' : "message $id";
printf "%s; flush: sent %d, deferred %d, failed %d%s\n", $where,
    @{$report}{qw(sent deferred failed)},
    $report->{held_by_mode} ? '; held for the delivery server (Queue mode)' : '';
