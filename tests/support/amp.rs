#![allow(dead_code)]

//! A stateful AMP for what moto lacks (managed scrapers) and cannot show (a workspace that takes
//! time to become ACTIVE), through aws-smithy-mocks. As strict as AMP where kedactl depends on
//! it: creates settle over several reads, a scraper cannot be deleted while it is being created
//! or updated (ConflictException), CreateScraper checks its source, its destination and its
//! scrape configuration, and a failed create says why (`statusReason`).

use aws_sdk_amp::Client;
use aws_sdk_amp::error::ErrorMetadata;
use aws_sdk_amp::operation::create_scraper::{CreateScraperError, CreateScraperOutput};
use aws_sdk_amp::operation::create_workspace::CreateWorkspaceOutput;
use aws_sdk_amp::operation::delete_scraper::{DeleteScraperError, DeleteScraperOutput};
use aws_sdk_amp::operation::delete_workspace::{DeleteWorkspaceError, DeleteWorkspaceOutput};
use aws_sdk_amp::operation::describe_scraper::{DescribeScraperError, DescribeScraperOutput};
use aws_sdk_amp::operation::describe_workspace::{DescribeWorkspaceError, DescribeWorkspaceOutput};
use aws_sdk_amp::operation::list_scrapers::ListScrapersOutput;
use aws_sdk_amp::operation::list_workspaces::ListWorkspacesOutput;
use aws_sdk_amp::operation::tag_resource::TagResourceOutput;
use aws_sdk_amp::operation::untag_resource::UntagResourceOutput;
use aws_sdk_amp::types::error::{
    ConflictException, ResourceNotFoundException, ValidationException,
};
use aws_sdk_amp::types::{
    AmpConfiguration, Destination, EksConfiguration, ScrapeConfiguration, ScraperDescription,
    ScraperStatus, ScraperStatusCode, ScraperSummary, Source, ValidationExceptionReason,
    WorkspaceDescription, WorkspaceStatus, WorkspaceStatusCode, WorkspaceSummary,
};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_types::DateTime;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: String,
    pub arn: String,
    pub alias: String,
    pub status: &'static str,
    pub tags: HashMap<String, String>,
    /// Reads left before a CREATING or DELETING workspace settles.
    pub polls: u32,
}

#[derive(Debug, Clone)]
pub struct Scraper {
    pub id: String,
    pub arn: String,
    pub alias: String,
    pub role_arn: String,
    pub cluster_arn: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub workspace_arn: String,
    /// The scrape configuration as AMP received it (decoded).
    pub config: String,
    pub status: &'static str,
    pub reason: Option<String>,
    pub tags: HashMap<String, String>,
    pub polls: u32,
}

#[derive(Default)]
pub struct State {
    pub workspaces: Vec<Workspace>,
    pub scrapers: Vec<Scraper>,
    /// Reads a create or delete takes to settle.
    pub settle: u32,
    /// A scraper create ends CREATION_FAILED with this reason.
    pub fail_scraper: Option<String>,
    /// Every call, in order (e.g. "DeleteScraper").
    pub calls: Vec<&'static str>,
    /// Every ListScrapers filter, as `key=value`.
    pub list_filters: Vec<String>,
    next: u32,
}

impl State {
    fn id(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    /// Advance everything in a transition by one read.
    fn tick(&mut self) {
        for w in &mut self.workspaces {
            if w.polls > 0 {
                w.polls -= 1;
            } else if w.status == "CREATING" {
                w.status = "ACTIVE";
            }
        }
        self.workspaces
            .retain(|w| !(w.status == "DELETING" && w.polls == 0));
        let fail = self.fail_scraper.clone();
        for s in &mut self.scrapers {
            if s.polls > 0 {
                s.polls -= 1;
            } else if s.status == "CREATING" {
                match &fail {
                    Some(why) => {
                        s.status = "CREATION_FAILED";
                        s.reason = Some(why.clone());
                    }
                    None => s.status = "ACTIVE",
                }
            }
        }
        self.scrapers
            .retain(|s| !(s.status == "DELETING" && s.polls == 0));
    }
}

#[derive(Clone, Default)]
pub struct Amp(pub Arc<Mutex<State>>);

impl Amp {
    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }
}

fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn not_found(id: &str, kind: &str) -> ResourceNotFoundException {
    let message = format!("{kind} {id} not found");
    ResourceNotFoundException::builder()
        .message(&message)
        .resource_id(id)
        .resource_type(kind)
        .meta(meta("ResourceNotFoundException", &message))
        .build()
        .unwrap()
}

fn conflict(id: &str, message: String) -> ConflictException {
    ConflictException::builder()
        .message(&message)
        .resource_id(id)
        .resource_type("SCRAPER")
        .meta(meta("ConflictException", &message))
        .build()
        .unwrap()
}

fn invalid(message: String) -> ValidationException {
    ValidationException::builder()
        .message(&message)
        .reason(ValidationExceptionReason::Other)
        .meta(meta("ValidationException", &message))
        .build()
        .unwrap()
}

fn workspace_status(s: &str) -> WorkspaceStatus {
    WorkspaceStatus::builder()
        .status_code(WorkspaceStatusCode::from(s))
        .build()
        .unwrap()
}

fn scraper_status(s: &str) -> ScraperStatus {
    ScraperStatus::builder()
        .status_code(ScraperStatusCode::from(s))
        .build()
        .unwrap()
}

fn source(s: &Scraper) -> Source {
    Source::EksConfiguration(
        EksConfiguration::builder()
            .cluster_arn(&s.cluster_arn)
            .set_subnet_ids(Some(s.subnets.clone()))
            .set_security_group_ids(Some(s.security_groups.clone()))
            .build()
            .unwrap(),
    )
}

fn destination(s: &Scraper) -> Destination {
    Destination::AmpConfiguration(
        AmpConfiguration::builder()
            .workspace_arn(&s.workspace_arn)
            .build()
            .unwrap(),
    )
}

/// What AMP refuses in a CreateScraper request, as ValidationException messages.
fn check_create(
    st: &State,
    i: &aws_sdk_amp::operation::create_scraper::CreateScraperInput,
) -> Result<Scraper, String> {
    let Some(Source::EksConfiguration(eks)) = i.source() else {
        return Err("source must be an eksConfiguration".into());
    };
    if !eks.cluster_arn().starts_with("arn:aws:eks:") {
        return Err(format!("{} is not an EKS cluster ARN", eks.cluster_arn()));
    }
    if !(2..=5).contains(&eks.subnet_ids().len()) {
        return Err(format!(
            "subnetIds must hold 2 to 5 subnets in two Availability Zones, not {}",
            eks.subnet_ids().len()
        ));
    }
    // Optional, but when given 1 to 5.
    if let Some(groups) = eks.security_group_ids.as_ref()
        && !(1..=5).contains(&groups.len())
    {
        return Err(format!(
            "securityGroupIds must hold 1 to 5 groups, not {}",
            groups.len()
        ));
    }
    let alias = i.alias().unwrap_or_default();
    let valid = alias.len() <= 100
        && alias
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if !valid {
        return Err(format!(
            "alias {alias:?} does not match [0-9A-Za-z][-.0-9A-Z_a-z]*"
        ));
    }
    let Some(Destination::AmpConfiguration(amp)) = i.destination() else {
        return Err("destination must be an ampConfiguration".into());
    };
    let ws = amp.workspace_arn();
    if !st
        .workspaces
        .iter()
        .any(|w| w.arn == ws && w.status == "ACTIVE")
    {
        return Err(format!("workspace {ws} does not exist or is not ACTIVE"));
    }
    let Some(ScrapeConfiguration::ConfigurationBlob(blob)) = i.scrape_configuration() else {
        return Err("scrapeConfiguration must be a configurationBlob".into());
    };
    let config = String::from_utf8(blob.as_ref().to_vec())
        .map_err(|_| "the scrape configuration is not UTF-8".to_string())?;
    let yaml: serde_json::Value = kedactl::yaml::from_str(&config)
        .map_err(|e| format!("the scrape configuration is not YAML: {e}"))?;
    let interval = yaml["global"]["scrape_interval"].as_str().unwrap_or("1m");
    let seconds: u64 = match interval.strip_suffix('s') {
        Some(n) => n.parse().unwrap_or(0),
        None => 60,
    };
    if seconds < 30 {
        return Err(format!("scrape_interval {interval} is under 30s"));
    }
    for job in yaml["scrape_configs"].as_array().into_iter().flatten() {
        let sd: Vec<&str> = job
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .map(String::as_str)
            .filter(|k| k.ends_with("_sd_configs"))
            .collect();
        if sd.iter().any(|k| *k != "kubernetes_sd_configs") {
            return Err(format!(
                "only kubernetes_sd_configs is supported, not {sd:?}"
            ));
        }
    }
    let alias = i.alias().unwrap_or_default().to_string();
    Ok(Scraper {
        id: String::new(),
        arn: String::new(),
        role_arn: String::new(),
        alias,
        cluster_arn: eks.cluster_arn().to_string(),
        subnets: eks.subnet_ids().to_vec(),
        security_groups: eks.security_group_ids().to_vec(),
        workspace_arn: ws.to_string(),
        config,
        status: "CREATING",
        reason: None,
        tags: i.tags().cloned().unwrap_or_default(),
        polls: st.settle,
    })
}

/// A ScraperSummary's or ScraperDescription's builder with the fields both have.
macro_rules! scraper {
    ($builder:expr, $s:expr) => {
        $builder
            .scraper_id(&$s.id)
            .arn(&$s.arn)
            .alias(&$s.alias)
            .role_arn(&$s.role_arn)
            .status(scraper_status($s.status))
            .set_status_reason($s.reason.clone())
            .set_tags(Some($s.tags.clone()))
            .source(source($s))
            .destination(destination($s))
            .created_at(DateTime::from_secs(1_795_503_600))
            .last_modified_at(DateTime::from_secs(1_795_503_600))
    };
}

/// The AMP client, its rules (keep them alive), and the state behind them.
pub fn stateful() -> (Client, Vec<Rule>, Amp) {
    let amp = Amp::default();
    let at = || DateTime::from_secs(1_795_503_600);

    let s = amp.clone();
    let create_workspace = mock!(Client::create_workspace).then_compute_output(move |i| {
        let mut st = s.state();
        st.calls.push("CreateWorkspace");
        let id = format!("ws-{:08}", st.id());
        let w = Workspace {
            arn: format!("arn:aws:aps:{REGION}:{ACCOUNT}:workspace/{id}"),
            id,
            alias: i.alias().unwrap_or_default().to_string(),
            status: "CREATING",
            tags: i.tags().cloned().unwrap_or_default(),
            polls: st.settle,
        };
        st.workspaces.push(w.clone());
        CreateWorkspaceOutput::builder()
            .workspace_id(w.id)
            .arn(w.arn)
            .status(workspace_status("CREATING"))
            .build()
            .unwrap()
    });
    let s = amp.clone();
    let describe_workspace = mock!(Client::describe_workspace).then_compute_response(move |i| {
        let mut st = s.state();
        st.calls.push("DescribeWorkspace");
        st.tick();
        let id = i.workspace_id().unwrap_or_default();
        match st.workspaces.iter().find(|w| w.id == id) {
            Some(w) => MockResponse::Output(
                DescribeWorkspaceOutput::builder()
                    .workspace(
                        WorkspaceDescription::builder()
                            .workspace_id(&w.id)
                            .arn(&w.arn)
                            .alias(&w.alias)
                            .status(workspace_status(w.status))
                            .prometheus_endpoint(format!(
                                "https://aps-workspaces.{REGION}.amazonaws.com/workspaces/{}/",
                                w.id
                            ))
                            .set_tags(Some(w.tags.clone()))
                            .created_at(at())
                            .build()
                            .unwrap(),
                    )
                    .build(),
            ),
            None => MockResponse::Error(DescribeWorkspaceError::ResourceNotFoundException(
                not_found(id, "WORKSPACE"),
            )),
        }
    });
    let s = amp.clone();
    let list_workspaces = mock!(Client::list_workspaces).then_compute_output(move |i| {
        let mut st = s.state();
        st.calls.push("ListWorkspaces");
        st.tick();
        // AMP filters by alias prefix.
        let prefix = i.alias().unwrap_or_default();
        let found = st
            .workspaces
            .iter()
            .filter(|w| w.alias.starts_with(prefix))
            .map(|w| {
                WorkspaceSummary::builder()
                    .workspace_id(&w.id)
                    .arn(&w.arn)
                    .alias(&w.alias)
                    .status(workspace_status(w.status))
                    .set_tags(Some(w.tags.clone()))
                    .created_at(at())
                    .build()
                    .unwrap()
            })
            .collect();
        ListWorkspacesOutput::builder()
            .set_workspaces(Some(found))
            .build()
            .unwrap()
    });
    let s = amp.clone();
    let delete_workspace = mock!(Client::delete_workspace).then_compute_response(move |i| {
        let mut st = s.state();
        st.calls.push("DeleteWorkspace");
        let settle = st.settle;
        let id = i.workspace_id().unwrap_or_default();
        match st.workspaces.iter_mut().find(|w| w.id == id) {
            Some(w) => {
                w.status = "DELETING";
                w.polls = settle;
                MockResponse::Output(DeleteWorkspaceOutput::builder().build())
            }
            None => MockResponse::Error(DeleteWorkspaceError::ResourceNotFoundException(
                not_found(id, "WORKSPACE"),
            )),
        }
    });

    let s = amp.clone();
    let create_scraper = mock!(Client::create_scraper).then_compute_response(move |i| {
        let mut st = s.state();
        st.calls.push("CreateScraper");
        let mut scraper = match check_create(&st, i) {
            Ok(s) => s,
            Err(why) => {
                return MockResponse::Error(CreateScraperError::ValidationException(invalid(why)));
            }
        };
        let n = st.id();
        scraper.id = format!("s-{n:08}");
        scraper.arn = format!("arn:aws:aps:{REGION}:{ACCOUNT}:scraper/{}", scraper.id);
        scraper.role_arn = format!(
            "arn:aws:iam::{ACCOUNT}:role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_{n:08}"
        );
        st.scrapers.push(scraper.clone());
        MockResponse::Output(
            CreateScraperOutput::builder()
                .scraper_id(scraper.id)
                .arn(scraper.arn)
                .status(scraper_status("CREATING"))
                .set_tags(Some(scraper.tags))
                .build()
                .unwrap(),
        )
    });
    let s = amp.clone();
    let list_scrapers = mock!(Client::list_scrapers).then_compute_output(move |i| {
        let mut st = s.state();
        st.calls.push("ListScrapers");
        st.tick();
        let empty = HashMap::new();
        let filters = i.filters().unwrap_or(&empty);
        for (k, values) in filters {
            let seen = values.iter().map(|v| format!("{k}={v}"));
            st.list_filters.extend(seen);
        }
        let found = st
            .scrapers
            .iter()
            .filter(|s| filters.get("alias").is_none_or(|a| a.contains(&s.alias)))
            .filter(|s| {
                filters
                    .get("sourceArn")
                    .is_none_or(|a| a.contains(&s.cluster_arn))
            })
            .map(|s| scraper!(ScraperSummary::builder(), s).build().unwrap())
            .collect();
        ListScrapersOutput::builder()
            .set_scrapers(Some(found))
            .build()
            .unwrap()
    });
    let s = amp.clone();
    let describe_scraper = mock!(Client::describe_scraper).then_compute_response(move |i| {
        let mut st = s.state();
        st.calls.push("DescribeScraper");
        st.tick();
        let id = i.scraper_id().unwrap_or_default();
        match st.scrapers.iter().find(|s| s.id == id) {
            Some(s) => MockResponse::Output(
                DescribeScraperOutput::builder()
                    .scraper(
                        scraper!(ScraperDescription::builder(), s)
                            .scrape_configuration(ScrapeConfiguration::ConfigurationBlob(
                                s.config.as_bytes().to_vec().into(),
                            ))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            ),
            None => MockResponse::Error(DescribeScraperError::ResourceNotFoundException(
                not_found(id, "SCRAPER"),
            )),
        }
    });
    let s = amp.clone();
    let delete_scraper = mock!(Client::delete_scraper).then_compute_response(move |i| {
        let mut st = s.state();
        st.calls.push("DeleteScraper");
        let settle = st.settle;
        let id = i.scraper_id().unwrap_or_default();
        match st.scrapers.iter_mut().find(|s| s.id == id) {
            // AMP: "Deletion is disallowed until status is ACTIVE".
            Some(s) if matches!(s.status, "CREATING" | "UPDATING" | "DELETING") => {
                MockResponse::Error(DeleteScraperError::ConflictException(conflict(
                    id,
                    format!(
                        "scraper {id} is {}; it can be deleted once ACTIVE",
                        s.status
                    ),
                )))
            }
            Some(s) => {
                s.status = "DELETING";
                s.polls = settle;
                MockResponse::Output(
                    DeleteScraperOutput::builder()
                        .scraper_id(id)
                        .status(scraper_status("DELETING"))
                        .build()
                        .unwrap(),
                )
            }
            None => MockResponse::Error(DeleteScraperError::ResourceNotFoundException(not_found(
                id, "SCRAPER",
            ))),
        }
    });
    let s = amp.clone();
    let tag = mock!(Client::tag_resource).then_compute_output(move |i| {
        let mut st = s.state();
        st.calls.push("TagResource");
        let arn = i.resource_arn().unwrap_or_default().to_string();
        let add = i.tags().cloned().unwrap_or_default();
        for w in st.workspaces.iter_mut().filter(|w| w.arn == arn) {
            w.tags.extend(add.clone());
        }
        for s in st.scrapers.iter_mut().filter(|s| s.arn == arn) {
            s.tags.extend(add.clone());
        }
        TagResourceOutput::builder().build()
    });
    let s = amp.clone();
    let untag = mock!(Client::untag_resource).then_compute_output(move |i| {
        let mut st = s.state();
        st.calls.push("UntagResource");
        let arn = i.resource_arn().unwrap_or_default().to_string();
        let keys = i.tag_keys().to_vec();
        for w in st.workspaces.iter_mut().filter(|w| w.arn == arn) {
            w.tags.retain(|k, _| !keys.contains(k));
        }
        for s in st.scrapers.iter_mut().filter(|s| s.arn == arn) {
            s.tags.retain(|k, _| !keys.contains(k));
        }
        UntagResourceOutput::builder().build()
    });
    let rules = vec![
        create_workspace,
        describe_workspace,
        list_workspaces,
        delete_workspace,
        create_scraper,
        list_scrapers,
        describe_scraper,
        delete_scraper,
        tag,
        untag,
    ];
    let client = mock_client!(aws_sdk_amp, RuleMode::MatchAny, &rules);
    (client, rules, amp)
}
