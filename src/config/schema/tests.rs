use super::*;

fn issues(text: &str) -> Vec<String> {
    let parsed = parse::<RawConfig>(text).unwrap_or_else(|err| panic!("{err}"));
    parsed
        .issues
        .iter()
        .map(|issue| format!("{:?} {}: {}", issue.line, issue.key, issue.message))
        .collect()
}

#[test]
fn every_unknown_key_and_wrong_type_is_reported_at_its_line() {
    let text =
        "[dispatch]\nconcurency = 8\nretention_days = \"thirty\"\n\n[server]\nlisten = 5\n\n\
                [sever]\nx = 1\n\n[[rules]]\nname = \"a\"\non = \"x\"\n\n[[rules]]\non = [\"y\"]\n\
                actions = []\nretyr = 1\n\n[sources.stripe]\ntolerance_secs = 1\n\n\
                [plugins.email.mailer]\nfrom_adress = \"x\"\n";
    let found = issues(text);
    let expected = [
        "Some(2) dispatch.concurency: unknown field `concurency` (did you mean `concurrency`?), expected one of `enabled`, \
         `concurrency`, `poll_interval_ms`, `lease_secs`, `max_attempts`, `max_age_secs`, \
         `backoff_base_secs`, `backoff_max_secs`, `breaker_failures`, `breaker_cooldown_secs`, \
         `retention_days`",
        "Some(3) dispatch.retention_days: invalid type: string \"thirty\", expected u64",
        "Some(6) server.listen: invalid type: integer `5`, expected socket address",
        "Some(8) sever: unknown field `sever` (did you mean `server`?), expected one of `server`, `database`, `dispatch`, \
         `templates`, `shop`, `sources`, `plugins`, `rules`, `followups`, `digests`, `admin`, \
         `metrics`",
        // The rule's `on` is reported once, not again as missing once taken out.
        "Some(13) rules[0].on: invalid type: string \"x\", expected a sequence",
        "Some(15) rules[1]: missing field `name`",
        "Some(18) rules[1].retyr: unknown field `retyr` (did you mean `retry`?), expected one of `name`, `on`, `when`, \
         `actions`, `retry`, `once_per`",
        "Some(20) sources.stripe: missing field `secret`",
        "Some(23) plugins.email.mailer: missing field `from`",
        "Some(24) plugins.email.mailer.from_adress: unknown field `from_adress`, expected one of \
         `transport`, `outbox`, `from`, `reply_to`, `host`, `port`, `security`, `username`, \
         `password`, `pool_max_size`, `timeout_secs`",
    ];
    assert_eq!(found, expected);
}

#[test]
fn an_instance_taken_out_whole_is_remembered_for_the_rules() {
    let parsed = parse::<RawConfig>("[plugins.email.mailer]\nhost = \"x\"\n").expect("toml");
    assert!(parsed.raw.is_some());
    assert_eq!(parsed.dropped_instances, ["plugins.email.mailer"]);
}

#[test]
fn a_later_element_keeps_its_index_in_the_file() {
    let text = "[[rules]]\non = [\"a\"]\n\n[[rules]]\nname = \"b\"\non = [\"b\"]\nactoins = 1\n";
    assert_eq!(
        issues(text),
        [
            "Some(1) rules[0]: missing field `name`",
            "Some(7) rules[1].actoins: unknown field `actoins` (did you mean `actions`?), expected one of `name`, `on`, \
             `when`, `actions`, `retry`, `once_per`",
        ]
    );
}
