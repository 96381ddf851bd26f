//! The parameters of one push action in a rule, e.g.
//! `{ plugin = "ntfy", title = "Order {{order_id}}", body = "Paid: {{amount}}" }`.
//!
//! herald strips `plugin` and passes the rest. [`validate_action`] checks what holds for
//! every provider; [`ValidatedPush::validate_action`] adds the instance's own rules (FCM
//! needs exactly one of `topic` and `token`; ntfy needs a topic somewhere). The deliver
//! stage parses the parameters again with [`PushAction::from_params`] on every job.
//!
//! `topic` is literal text (checked at start-up, so event data never picks the
//! audience); `title`, `body`, `token` and `click` are inline templates.

use herald_plugin_api::{or_problems, require_key, string_params, Templates};
use serde_json::{Map, Value};

use crate::config::{PushSettings, ValidatedPush};

/// The keys a push action accepts, in the order error messages list them.
const KEYS: [&str; 5] = ["title", "body", "topic", "token", "click"];

/// One push action's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushAction {
    /// Inline template for the notification's title.
    pub title: Option<String>,
    /// Inline template for the notification's text (required).
    pub body: String,
    /// ntfy: the topic instead of the instance's; fcm: the FCM topic sent to.
    pub topic: Option<String>,
    /// fcm: inline template for the device registration token sent to.
    pub token: Option<String>,
    /// Inline template for the URL opened when the notification is clicked.
    pub click: Option<String>,
}

impl PushAction {
    /// Parses an action's parameters.
    ///
    /// # Errors
    /// Every unknown key, non-string value and a missing `body`.
    pub fn from_params(params: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let [title, body, topic, token, click] = string_params(params, KEYS, &mut errors);
        require_key(
            params,
            "body",
            "`body` is required: the notification's text",
            &mut errors,
        );
        match body {
            Some(body) if errors.is_empty() => Ok(Self {
                title: title.map(str::to_owned),
                body: body.to_owned(),
                topic: topic.map(str::to_owned),
                token: token.map(str::to_owned),
                click: click.map(str::to_owned),
            }),
            _ => Err(errors),
        }
    }
}

/// Which topic names a provider accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopicRules {
    /// ntfy: `[-_A-Za-z0-9]{1,64}`.
    Ntfy,
    /// FCM: `[a-zA-Z0-9-_.~%]+`, without the legacy `/topics/` prefix.
    Fcm,
}

/// Checks a topic name against a provider's rules.
pub(crate) fn check_topic(topic: &str, rules: TopicRules) -> Result<(), String> {
    let (valid, allowed) = match rules {
        TopicRules::Ntfy => (
            (1..=64).contains(&topic.len())
                && topic
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')),
            "1 to 64 letters, digits, `-` and `_`",
        ),
        TopicRules::Fcm => (
            !topic.is_empty()
                && topic
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%')),
            "letters, digits and `-_.~%`, without a `/topics/` prefix",
        ),
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "topic `{topic}` is not a valid topic name ({allowed})"
        ))
    }
}

/// Checks a push action's parameters as far as they do not depend on the provider,
/// at start-up.
///
/// # Errors
/// Every problem found, as messages an operator can act on.
pub fn validate_action(
    params: &Map<String, Value>,
    templates: &dyn Templates,
) -> Result<(), Vec<String>> {
    let action = PushAction::from_params(params)?;
    let mut errors = Vec::new();
    if action.body.trim().is_empty() {
        errors.push("`body` must not be empty".to_owned());
    }
    let inline = [
        ("title", &action.title),
        ("body", &Some(action.body.clone())),
        ("token", &action.token),
        ("click", &action.click),
    ];
    for (key, template) in inline {
        if let Some(Err(err)) = template.as_deref().map(|t| templates.check_inline(t)) {
            errors.push(format!("`{key}` is not a valid template: {err}"));
        }
    }
    if action.topic.is_some() && action.token.is_some() {
        errors.push("set either `topic` or `token`, not both".to_owned());
    }
    or_problems((), errors)
}

impl ValidatedPush {
    /// [`validate_action`] plus this instance's provider rules: FCM needs exactly one of
    /// `topic` and `token`; ntfy takes no `token` and needs a topic in the action or the
    /// instance.
    ///
    /// # Errors
    /// Every problem found, as messages an operator can act on.
    pub fn validate_action(
        &self,
        params: &Map<String, Value>,
        templates: &dyn Templates,
    ) -> Result<(), Vec<String>> {
        let mut errors = validate_action(params, templates).err().unwrap_or_default();
        // Unparseable parameters were reported above; provider rules need parsed ones.
        let Ok(action) = PushAction::from_params(params) else {
            return Err(errors);
        };
        match &self.provider {
            PushSettings::Ntfy(ntfy) => {
                if action.token.is_some() {
                    errors.push("`token` only applies to fcm; ntfy sends to a `topic`".into());
                }
                match action.topic.as_deref() {
                    Some(topic) => errors.extend(check_topic(topic, TopicRules::Ntfy).err()),
                    None if ntfy.topic.is_none() => errors
                        .push("`topic` is required: the instance has no default `topic`".into()),
                    None => {}
                }
            }
            PushSettings::Fcm(_) => match (&action.topic, &action.token) {
                (Some(topic), None) => errors.extend(check_topic(topic, TopicRules::Fcm).err()),
                (None | Some(_), Some(_)) => {}
                (None, None) => errors.push(
                    "fcm needs a `topic` or a device `token` (inline template) to send to".into(),
                ),
            },
        }
        or_problems((), errors)
    }
}
