#!/usr/bin/perl
# Provisions a throwaway Request Tracker 5 database for the connector tests: queues, a
# custom field, the connector's own user (triage-bot), a human agent (agent), their rights,
# and one REST2 auth token for each. Called by rt-instance.sh after rt-setup-database has
# created the schema and core data; reads the site config named by RT_SITE_CONFIG.
#
# Usage: rt-provision.pl OUT_DIR AGENT_PASSWORD
# Writes OUT_DIR/token (triage-bot) and OUT_DIR/agent-token (agent).
use strict;
use warnings;
use lib '/usr/share/request-tracker5/lib', '/usr/local/share/request-tracker5/lib';

use RT;

my ($out_dir, $agent_password) = @ARGV;
die "usage: rt-provision.pl OUT_DIR AGENT_PASSWORD\n" unless $out_dir && $agent_password;

RT::LoadConfig();
RT::Init();
my $system = RT->SystemUser;

sub check {
    my ($what, $ok, $msg) = @_;
    die "rt-provision: could not $what: $msg\n" unless $ok;
}

# Queues: General exists from the core data; the others stand for assignment groups.
for my $name ('Service Desk', 'Network', 'Applications', 'Accounts') {
    my $queue = RT::Queue->new($system);
    check("create queue $name", $queue->Create(Name => $name, Description => "$name (triage tests)"));
}

# One global free-form ticket custom field, to exercise custom-field updates over REST2.
my $cf = RT::CustomField->new($system);
check('create custom field Category',
    $cf->Create(Name => 'Category', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket'));
check('apply custom field Category globally', $cf->AddToObject(RT::Queue->new($system)));

# Both users sit in one group that holds the ticket rights in every queue (granted globally).
my $group = RT::Group->new($system);
check('create group Triage Agents', $group->CreateUserDefinedGroup(Name => 'Triage Agents'));

my @ticket_rights = qw(
    SeeQueue ShowTicket ShowTicketComments CreateTicket ModifyTicket
    CommentOnTicket ReplyToTicket OwnTicket TakeTicket StealTicket ReassignTicket
    Watch WatchAsAdminCc ShowOutgoingEmail SeeCustomField ModifyCustomField
    SetInitialCustomField
);
for my $right (@ticket_rights) {
    check("grant $right", $group->PrincipalObj->GrantRight(Right => $right, Object => $RT::System));
}

my %tokens;
for my $spec (
    ['triage-bot', 'Triage Bot', 'triage-bot@triage.test', undef],
    ['agent',      'Test Agent', 'agent@triage.test',      $agent_password],
) {
    my ($name, $real_name, $email, $password) = @$spec;
    my $user = RT::User->new($system);
    check("create user $name", $user->Create(
        Name => $name, RealName => $real_name, EmailAddress => $email,
        Privileged => 1, ($password ? (Password => $password) : ()),
    ));
    check("add $name to Triage Agents", $group->AddMember($user->PrincipalId));

    my $token = RT::AuthToken->new($system);
    my ($id, $msg, $auth_string) = $token->Create(Owner => $user->Id, Description => 'triage connector tests');
    check("create a token for $name", $id, $msg);
    $tokens{$name} = $auth_string;
}

for my $file (['token', 'triage-bot'], ['agent-token', 'agent']) {
    my ($basename, $user) = @$file;
    open my $fh, '>', "$out_dir/$basename" or die "rt-provision: cannot write $out_dir/$basename: $!\n";
    print {$fh} "$tokens{$user}\n";
    close $fh or die "rt-provision: cannot write $out_dir/$basename: $!\n";
}
