//! The config layer's side of the trigger kinds: the one place a kind is bound to its section
//! of `apps[]`, and the checks across sections (one trigger per app, the section it needs,
//! resources that two apps must describe alike). Each section checks itself
//! (`triggers::<kind>::config`).

use super::{App, Queue, ScalingKind};
use crate::problem::Problem;
use crate::triggers::kind::resource::Resource;
use crate::triggers::kind::{ConfigSection, Kind, Section};
use crate::triggers::{
    cloudwatch::config as cloudwatch, dynamodb::config as dynamodb,
    dynamodb_streams::config as dynamodb_streams, kinesis::config as kinesis,
    prometheus::config as prometheus,
};

/// The one place the config binds a kind to its section: how messages name it, and the app's
/// value of it (None when the app does not set it). None for sqs, whose `queue` is always
/// there (checked with the rest of the spec).
fn section(app: &App, kind: Kind) -> Option<(Section, Option<&dyn ConfigSection>)> {
    fn set<C: ConfigSection>(c: &Option<C>) -> Option<&dyn ConfigSection> {
        c.as_ref().map(|c| c as &dyn ConfigSection)
    }
    match kind {
        Kind::Sqs => None,
        Kind::Prometheus => Some((prometheus::SECTION, set(&app.prometheus))),
        Kind::Kinesis => Some((kinesis::SECTION, set(&app.kinesis))),
        Kind::CloudWatch => Some((cloudwatch::SECTION, set(&app.cloudwatch))),
        Kind::Dynamodb => Some((dynamodb::SECTION, set(&app.dynamodb))),
        Kind::DynamodbStreams => Some((dynamodb_streams::SECTION, set(&app.dynamodb_streams))),
    }
}

impl App {
    /// The app's section for `kind`, when it sets one.
    pub fn section(&self, kind: Kind) -> Option<&dyn ConfigSection> {
        section(self, kind).and_then(|(_, c)| c)
    }
}

/// Check an app's trigger: its own section, and no section of another kind.
pub fn validate(app: &App, at: &str, out: &mut Vec<Problem>) {
    for kind in Kind::ALL.into_iter().filter(|k| app.section(*k).is_some()) {
        let field = section(app, kind).map_or("", |(s, _)| s.field);
        if kind != app.trigger {
            out.push(Problem::new(
                format!("{at}.{field}"),
                format!(
                    "a `{field}` section is set but the app's trigger is {}",
                    app.trigger.as_str()
                ),
                format!(
                    "set {at}.trigger: {} to use it, or remove the section",
                    kind.as_str()
                ),
            ));
        }
    }
    // The queue has defaults rather than being optional: one that differs from them was
    // written (or set by a flag), and on another trigger it would be silently ignored.
    if app.trigger != Kind::Sqs && app.queue != Queue::default() {
        out.push(Problem::new(
            format!("{at}.queue"),
            format!(
                "a `queue` section is set but the app's trigger is {}",
                app.trigger.as_str()
            ),
            format!("set {at}.trigger: sqs to use it, or remove the section (and --queue flags)"),
        ));
    }
    if app.trigger != Kind::Sqs && app.scaling.kind == ScalingKind::ScaledJob {
        out.push(Problem::new(
            format!("{at}.scaling.kind"),
            format!(
                "a ScaledJob runs one Job per batch of messages; kedactl renders and models it for the sqs trigger only, not {}",
                app.trigger.as_str()
            ),
            "use scaling.kind: ScaledObject, or trigger: sqs",
        ));
    }
    let own = section(app, app.trigger);
    if let Some((s, None)) = own {
        out.push(Problem::new(
            format!("{at}.{}", s.field),
            format!(
                "trigger: {} needs a `{}` section ({})",
                app.trigger.as_str(),
                s.field,
                s.holds
            ),
            format!("add {} (see {})", s.minimal, s.example),
        ));
    }
    if app.consume && !app.trigger.consumable() {
        out.push(Problem::new(
            format!("{at}.consume"),
            format!(
                "consume: true grants a consumer of a stream or table; trigger {} has none{}",
                app.trigger.as_str(),
                match app.trigger {
                    Kind::Sqs => " to add (an sqs app always consumes its queue)",
                    _ => " (KEDA alone reads its source)",
                }
            ),
            "remove consume",
        ));
    }
    if let Some((_, Some(c))) = own {
        c.validate(app.existing, at, out);
    }
}

/// Apps that name the same resource must want the same one: a stream created with 2 shards by
/// one app and 4 by another, or created by one and only read by another, has no single plan.
pub fn conflicts(apps: &[App], out: &mut Vec<Problem>) {
    let mut seen: Vec<(usize, Resource)> = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        for r in app
            .section(app.trigger)
            .map(|c| c.resources())
            .unwrap_or_default()
        {
            match seen.iter().find(|(_, s)| s.id() == r.id()) {
                Some((j, s)) if *s != r => out.push(Problem::new(
                    format!("apps[{i}].{}", app.trigger.as_str()),
                    format!(
                        "apps[{j}] also names {}, {}",
                        r.describe(),
                        if s.managed != r.managed {
                            "but one app creates it and the other names an existing one"
                        } else {
                            "with other settings"
                        }
                    ),
                    format!("describe {} the same way in both apps", r.describe()),
                )),
                Some(_) => {}
                None => seen.push((i, r)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_but_sqs_is_bound_to_a_section_named_after_its_app_field() {
        let app = App::default();
        for kind in Kind::ALL {
            let bound = section(&app, kind);
            assert_eq!(bound.is_none(), kind == Kind::Sqs, "{kind:?}");
            if let Some((s, set)) = bound {
                assert!(set.is_none(), "{kind:?}: the default app sets no section");
                assert!(s.minimal.starts_with(&format!("{}: ", s.field)), "{s:?}");
                assert!(s.example.starts_with("examples/"), "{s:?}");
            }
        }
    }
}
