//! Cleaning e-mail-born ticket text (`triage_core::clean`): the cost per ticket of a typical
//! 2 KB council e-mail (two lines, signature, disclaimer, a quoted auto-reply), a 2 KB plain
//! ticket with nothing to remove (the borrowed fast path most tickets take), and a 20 KB
//! forwarded thread. Target: under 20 µs for the typical 2 KB e-mail.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use triage_core::clean::{Boilerplate, clean_body};

const PROBLEM: &str = "Hi,\n\nSince the update this morning Outlook keeps asking for my password and then says \
\"Something went wrong [0x80070005]\". I have restarted the laptop twice and it still happens in the office and at home.\n";

const SIGNATURE: &str = "\nKind regards\n\nJane Smith\nSenior Revenues Officer | Finance Directorate\nNorthmoor District Council\n\
Civic Centre, 1 High Street, Northmoor NM1 2AB\nTel: 01632 960001 | Ext. 4412 | Mobile: 07700 900123\nwww.northmoor.gov.uk\n";

const DISCLAIMER: &str = "\nThis e-mail and any attachments are confidential and intended solely for the addressee. If you have \
received this e-mail in error please notify the sender immediately and delete it. Any views or opinions expressed are those of \
the author and do not necessarily represent those of the Council. This e-mail may be subject to disclosure under the Freedom of \
Information Act 2000. Communications via the GCSX network may be monitored or recorded for legal purposes.\n\
Please consider the environment before printing this e-mail.\n";

const QUOTED_AUTO_REPLY: &str = "\n________________________________\nFrom: IT Service Desk <servicedesk@northmoor.gov.uk>\n\
Sent: 03 March 2026 09:12\nTo: Jane Smith <jane.smith@northmoor.gov.uk>\nSubject: RE: Outlook password prompt [INC0012345]\n\n\
Thank you for your e-mail. This is an automated response to confirm we have received it. We aim to respond within 2 working days. \
Your call reference is INC0012345. For urgent issues please phone the service desk on 01632 960000 between 8am and 5pm, Monday to \
Friday. You can also check the status of your calls, read our knowledge articles and reset your own password in the self-service \
portal at https://servicedesk.northmoor.gov.uk. Please do not reply to this e-mail as the mailbox is not monitored.\n";

/// A 2 KB ticket with nothing to remove: a long problem description with steps and an error.
fn plain_ticket() -> String {
    let steps = "1. Open the Civica Open Revenues client from the Start menu\n2. Search for account 40012345 by reference\n\
3. Press F7 to open the recovery screen\n4. The client freezes for about a minute, then shows Error 1603: fatal error during installation\n";
    let mut t = String::from(PROBLEM);
    while t.len() < 2_000 {
        t.push_str(steps);
        t.push_str(
            "It happens on every PC in the team since version 4.2.17 was rolled out; C:\\Program Files\\Civica\\logs has nothing new.\n",
        );
    }
    t
}

/// A 20 KB forwarded thread: the problem, then reply after reply with headers, signatures and disclaimers.
fn forwarded_thread() -> String {
    let mut t = format!("{PROBLEM}{SIGNATURE}{DISCLAIMER}");
    let mut n = 0;
    while t.len() < 20_000 {
        n += 1;
        t.push_str(&format!(
            "\n---------- Forwarded message ---------\nFrom: Officer {n} <officer{n}@northmoor.gov.uk>\nDate: Mon, 2 Mar 2026 at 17:{n:02}\n\
Subject: Fwd: Outlook password prompt\nTo: IT Service Desk <servicedesk@northmoor.gov.uk>\n\n{PROBLEM}{SIGNATURE}{DISCLAIMER}{QUOTED_AUTO_REPLY}"
        ));
    }
    t
}

fn bench_clean(c: &mut Criterion) {
    let bp = Boilerplate::default_uk();
    let mut email = format!("{PROBLEM}{SIGNATURE}{DISCLAIMER}{QUOTED_AUTO_REPLY}");
    while email.len() < 2_000 {
        email.push_str("> Sent from my iPhone\n");
    }
    let inputs = [("council_email", email), ("plain_ticket", plain_ticket()), ("forwarded_thread", forwarded_thread())];
    let mut group = c.benchmark_group("clean");
    for (name, text) in &inputs {
        let expect_removed = *name != "plain_ticket";
        let kb = text.len() / 1000;
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new(*name, format!("{kb}KB")), text, |b, text| {
            b.iter(|| {
                let cleaned = clean_body(black_box(text), &bp);
                assert_eq!(cleaned.removed.is_empty(), !expect_removed);
                black_box(cleaned.kept_chars)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_clean);
criterion_main!(benches);
