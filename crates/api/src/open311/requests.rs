//! Services (the city's categories) and service requests (its cases): filing
//! one through the command path, reading them back with public fields only.

use axum::http::HeaderMap;
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use aduan_domain::MAX_TEXT;
use aduan_domain::{
    tracking, Action, Case, Category, CategoryCode, Channel, Code, Command, ComplaintError,
    Contact, Links, Location, LongText, Place, ReferenceData, Submit, Title,
};
use aduan_projections::summary_query::SummaryFilter;
use aduan_projections::ComplaintView;
use aduan_store::{CommandBus, CommandRequest, RequestContext};

use super::attributes::{self, answer_lines};
use super::clients::Client;
use super::params::{Params, MAX_IDS};
use super::statuses::RequestStatus;
use super::wire::{self, Body, Field, Record};
use super::{Open311, Refusal};

/// The most requests one answer lists (the specification's default limit).
pub const MAX_REQUESTS: i64 = 1000;

/// The window `GET requests` covers without dates.
const DEFAULT_DAYS: i64 = 90;

/// Longest `Idempotency-Key`.
const MAX_KEY: usize = 200;

/// Title length taken from the description's first line.
const TITLE_CHARS: usize = 100;

pub fn at(t: DateTime<Utc>) -> Field {
    Field::Text(t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn reference(o: &Open311) -> &ReferenceData {
    &o.bus.services().reference
}

fn service(c: &Category, reference: &ReferenceData) -> Record {
    let group = reference.opd(&c.default_opd).map(|o| o.name.clone());
    Record::default()
        .with("service_code", c.code.as_str())
        .with("service_name", c.name.as_str())
        .with("description", c.name.as_str())
        .with("metadata", Field::Bool(!c.attributes.is_empty()))
        .with("type", "realtime")
        .with("keywords", "")
        .with("group", group)
}

pub fn services(o: &Open311) -> Body {
    let reference = reference(o);
    let records = reference
        .categories
        .iter()
        .map(|c| service(c, reference))
        .collect();
    wire::list("services", "service", records)
}

pub fn definition(o: &Open311, code: &str) -> Result<Body, Refusal> {
    let category = reference(o)
        .category(code)
        .ok_or_else(|| Refusal::not_found(format!("no service {code}")))?;
    let mut attributes = category.attributes.clone();
    attributes.sort_by_key(|a| a.order);
    let attributes = attributes
        .iter()
        .map(|a| {
            let values = a
                .values
                .iter()
                .map(|v| {
                    Record::default()
                        .with("key", v.key.as_str())
                        .with("name", v.name.as_str())
                })
                .collect();
            Record::default()
                .with("variable", Field::Bool(a.variable))
                .with("code", a.code.as_str())
                .with("datatype", attributes::datatype(a.datatype))
                .with("required", Field::Bool(a.required))
                .with("datatype_description", Field::Null)
                .with("order", Field::Int(i64::from(a.order)))
                .with("description", a.description.as_str())
                .with("values", Field::Records("value", values))
        })
        .collect();
    Ok(Body::One {
        root: "service_definition",
        record: Record::default()
            .with("service_code", category.code.as_str())
            .with("attributes", Field::Records("attribute", attributes)),
    })
}

/// A case as Open311 shows it to anyone: no reporter, no text the reporter
/// wrote, no address; the coordinates (not personal data, docs/erasure.md)
/// unless the client gave only an address. A case that follows an incident
/// (linked as a duplicate, or closed through it) answers its status and status
/// notes from `primary`, the incident's primary case.
pub fn public_record(case: &Case, primary: Option<&Case>, reference: &ReferenceData) -> Record {
    let lead = primary.unwrap_or(case);
    let service_name = reference.category(&case.category).map(|c| c.name.clone());
    let agency = case.opd.as_deref().map(|code| {
        reference
            .opd(code)
            .map_or(code, |o| o.name.as_str())
            .to_string()
    });
    let (lat, long) = match (case.location.latitude, case.location.longitude) {
        (lat, long) if lat == 0.0 && long == 0.0 => (Field::Null, Field::Null),
        (lat, long) => (Field::Number(lat), Field::Number(long)),
    };
    Record::default()
        .with("service_request_id", case.id.as_str())
        .with("case_number", case.number.clone())
        .with("status", RequestStatus::of(lead.status).as_str())
        .with(
            "status_notes",
            lead.resolution.map(|r| r.as_str().to_lowercase()),
        )
        .with("service_name", service_name)
        .with("service_code", case.category.as_str())
        .with("agency_responsible", agency)
        .with("requested_datetime", at(case.created_at))
        .with("updated_datetime", at(case.updated_at.max(lead.updated_at)))
        .with("lat", lat)
        .with("long", long)
}

/// The answer listing `cases`, each with the primary it follows (`primaries`).
async fn requests_body(o: &Open311, cases: Vec<Case>) -> Result<Body, Refusal> {
    let primaries = primaries(o, &cases).await?;
    let records = cases
        .iter()
        .map(|c| {
            let primary = c.incident_primary().and_then(|p| primaries.get(p));
            public_record(c, primary, reference(o))
        })
        .collect();
    Ok(wire::list("service_requests", "request", records))
}

/// The primaries the cases follow, by id, from the log (never behind).
async fn primaries(
    o: &Open311,
    cases: &[Case],
) -> Result<std::collections::HashMap<String, Case>, Refusal> {
    let mut found = std::collections::HashMap::new();
    for id in cases.iter().filter_map(Case::incident_primary) {
        if !found.contains_key(id) {
            if let Some(primary) = case(o, id).await? {
                found.insert(id.to_string(), primary);
            }
        }
    }
    Ok(found)
}

/// `GET requests`: by ids, or filtered by service, dates and status, newest
/// first, at most `MAX_REQUESTS`, from the read side.
pub async fn list(o: &Open311, p: &Params) -> Result<Body, Refusal> {
    let ids = p.list("service_request_id");
    let cases = if !ids.is_empty() {
        if ids.len() > MAX_IDS || ids.iter().any(|id| id.len() > 100) {
            return Err(Refusal::bad_request(format!(
                "service_request_id lists at most {MAX_IDS} ids"
            )));
        }
        o.reads.many(&ids).await?
    } else {
        let now = o.bus.services().clock.now();
        let (start, end) = p.window(now, DEFAULT_DAYS)?;
        let mut statuses = Vec::new();
        for s in p.list("status") {
            let group = RequestStatus::parse(&s)
                .ok_or_else(|| Refusal::bad_request("status is open or closed"))?;
            statuses.extend(group.statuses().iter().map(|s| s.as_str().to_string()));
        }
        let filter = SummaryFilter {
            statuses,
            categories: p.list("service_code"),
            created_from: Some(start),
            created_to: Some(end),
            now,
            ..SummaryFilter::default()
        };
        let (rows, _) = o.reads.page(&filter, None, MAX_REQUESTS).await?;
        let ids: Vec<String> = rows.into_iter().map(|r| r.complaint_id).collect();
        o.reads.many(&ids).await?
    };
    requests_body(o, cases.into_iter().map(|(_, case)| case).collect()).await
}

/// The case `id` from the log (never behind the read side).
async fn case(o: &Open311, id: &str) -> Result<Option<Case>, Refusal> {
    if id.len() > 100 {
        return Ok(None);
    }
    let events = o.bus.log().load(id).await?;
    Ok(ComplaintView::from_events(&events).map(|v| v.case))
}

/// `GET requests/{id}`.
pub async fn one(o: &Open311, id: &str) -> Result<Body, Refusal> {
    let case = case(o, id)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no service request {id}")))?;
    requests_body(o, vec![case]).await
}

/// `GET tokens/{token}`: the token is the case's tracking code, answered with
/// the request's id (aduan files synchronously, so the id is known at once).
pub async fn token(o: &Open311, token: &str) -> Result<Body, Refusal> {
    let missing = || Refusal::not_found("no service request has this token");
    let id = tracking::complaint_id_of(token).ok_or_else(missing)?;
    let issued = o.tracking.code_for(&id).ok_or_else(missing)?;
    if tracking::hash(&issued) != tracking::hash(token) {
        return Err(missing());
    }
    case(o, &id).await?.ok_or_else(missing)?;
    let record = Record::default()
        .with("service_request_id", id)
        .with("token", issued);
    Ok(wire::list("service_requests", "request", vec![record]))
}

/// `POST requests`: the client's key, then the form, then the command.
pub async fn create(o: &Open311, headers: &HeaderMap, body: &[u8]) -> Result<Body, Refusal> {
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(Refusal::bad_request(
            "send the request as application/x-www-form-urlencoded",
        ));
    }
    let p = Params::parse(body);
    let key = p
        .get("api_key")
        .ok_or_else(|| Refusal::forbidden("api_key is required to create a service request"))?;
    let client = o
        .clients
        .authenticate(key)
        .await?
        .ok_or_else(|| Refusal::forbidden("invalid api_key"))?;
    let identity = identity(headers, body)?;
    let command_id = format!("open311:{}:{identity}", client.id);
    let complaint_id = CommandBus::new_complaint_id(Some(&command_id));
    let code = o.tracking.code_for(&complaint_id);
    let submit = submission(o, &p, &client, complaint_id.clone(), code.as_deref())?;
    let request = CommandRequest {
        complaint_id,
        command: Command::new(client.actor(), Action::Submit(submit)),
        context: RequestContext {
            channel: "open311".into(),
            correlation_id: correlation(headers),
        },
        command_id: Some(command_id),
        expected_version: None,
    };
    let started = std::time::Instant::now();
    let executed = o.bus.execute(request).await;
    crate::metrics::record_command(
        crate::metrics::OPEN311_SUBMIT,
        executed
            .as_ref()
            .map(|_| ())
            .map_err(crate::error_code::ClientCode::from),
        started.elapsed(),
        executed.as_ref().ok().map(|x| u64::from(x.round_trips)),
    );
    let outcome = executed?;
    let record = Record::default()
        .with("service_request_id", outcome.case.id.as_str())
        .with("case_number", outcome.case.number.clone())
        .with(
            "service_notice",
            "Received. The token is the case's tracking code: whoever holds it \
             can follow the case; keep it private.",
        )
        .with("account_id", Field::Null)
        .with("token", code);
    Ok(wire::list("service_requests", "request", vec![record]))
}

/// What makes a retried POST the same request: the client's `Idempotency-Key`
/// header, else the form body itself (hashed either way).
fn identity(headers: &HeaderMap, body: &[u8]) -> Result<String, Refusal> {
    let header = headers.get("idempotency-key").map(|v| v.to_str());
    let source = match header {
        Some(Ok(key)) if !key.trim().is_empty() && key.len() <= MAX_KEY => {
            format!("key:{}", key.trim())
        }
        Some(_) => {
            return Err(Refusal::bad_request(format!(
                "Idempotency-Key must be 1 to {MAX_KEY} printable characters"
            )))
        }
        None => format!("body:{}", hex::encode(Sha256::digest(body))),
    };
    Ok(hex::encode(Sha256::digest(source.as_bytes())))
}

fn correlation(headers: &HeaderMap) -> String {
    headers
        .get("x-correlation-id")
        .and_then(|h| h.to_str().ok())
        .filter(|c| !c.is_empty() && c.len() <= 100 && c.chars().all(|ch| ch.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
}

/// The submission a form describes; the domain validates the rest.
fn submission(
    o: &Open311,
    p: &Params,
    client: &Client,
    complaint_id: String,
    code: Option<&str>,
) -> Result<Submit, Refusal> {
    let service_code = p
        .get("service_code")
        .ok_or_else(|| Refusal::bad_request("service_code is required"))?;
    let category = reference(o)
        .category(service_code)
        .ok_or_else(|| Refusal::bad_request(format!("service_code {service_code} is unknown")))?;
    let location = location(p)?;
    let answers = answer_lines(&category.attributes, &p.attributes())?;
    let text = p.get("description").unwrap_or_default();
    if text.len() > MAX_TEXT {
        return Err(Refusal::bad_request(format!(
            "description: at most {MAX_TEXT} bytes"
        )));
    }
    let title = title(text, &category.name);
    let mut description = if text.is_empty() {
        category.name.clone()
    } else {
        text.to_string()
    };
    if !answers.is_empty() {
        description = format!("{description}\n\n{}", answers.join("\n"));
    }
    let name = [p.get("first_name"), p.get("last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = Some(name).filter(|n| !n.is_empty());
    let has_reporter = name.is_some() || p.get("phone").is_some() || p.get("email").is_some();
    let reporter = Contact::parse(name.as_deref(), p.get("phone"), p.get("email"))
        .map_err(|e| e.within("reporter"));
    let media: Vec<String> = p.get("media_url").map(str::to_string).into_iter().collect();
    let refused = |e: ComplaintError| Refusal::from(aduan_store::CommandError::from(e));
    let reference = reference(o);
    Ok(Submit {
        complaint_id: Code::parse(&complaint_id).map_err(|e| refused(e.at("complaint_id")))?,
        channel: Channel::Open311,
        category: CategoryCode::known(reference, &category.code)
            .map_err(|e| refused(e.at("category")))?,
        priority: None,
        title: Title::parse(&title).map_err(|e| refused(e.at("title")))?,
        description: LongText::parse(&description).map_err(|e| refused(e.at("description")))?,
        location: Place::parse(reference, &location).map_err(|e| refused(e.within("location")))?,
        reporter: has_reporter
            .then_some(reporter)
            .transpose()
            .map_err(refused)?,
        anonymous: false,
        attachments: Links::parse(&media).map_err(|e| refused(e.at("attachments")))?,
        external_ref: Some(
            Code::parse(&client.external_ref()).map_err(|e| refused(e.at("external_ref")))?,
        ),
        tracking_code_hash: code.map(tracking::hash),
        number: None,
    })
}

/// `lat` and `long` together, or `address_string` alone (the case is then at
/// 0,0, which Open311 answers show as no coordinates: aduan geocodes nothing).
fn location(p: &Params) -> Result<Location, Refusal> {
    let address = p.get("address_string").map(str::to_string);
    let coordinate = |name: &str| -> Result<Option<f64>, Refusal> {
        p.get(name)
            .map(|v| {
                v.parse::<f64>()
                    .map_err(|_| Refusal::bad_request(format!("{name} must be a number")))
            })
            .transpose()
    };
    let (latitude, longitude) = match (coordinate("lat")?, coordinate("long")?) {
        (Some(lat), Some(long)) => (lat, long),
        (None, None) if address.is_some() => (0.0, 0.0),
        (None, None) => {
            return Err(Refusal::bad_request(
                "a location is required: lat and long, or address_string",
            ))
        }
        _ => return Err(Refusal::bad_request("lat and long go together")),
    };
    Ok(Location {
        latitude,
        longitude,
        address,
        kecamatan: None,
        kelurahan: None,
    })
}

/// The case's title: the description's first line, shortened, or the
/// service's name when there is no description.
fn title(description: &str, service: &str) -> String {
    let line = description.lines().next().unwrap_or_default().trim();
    if line.is_empty() {
        return service.to_string();
    }
    if line.chars().count() <= TITLE_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(TITLE_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_first_line() {
        assert_eq!(title("Lubang besar\ndi depan", "Jalan"), "Lubang besar");
        assert_eq!(title("", "Jalan rusak"), "Jalan rusak");
        let long = "x".repeat(300);
        assert_eq!(title(&long, "s").chars().count(), TITLE_CHARS);
    }

    #[test]
    fn identities_prefer_the_header_and_differ_by_body() {
        let mut headers = HeaderMap::new();
        let a = identity(&headers, b"a=1").unwrap();
        assert_eq!(a, identity(&headers, b"a=1").unwrap());
        assert_ne!(a, identity(&headers, b"a=2").unwrap());
        headers.insert("idempotency-key", "k-1".parse().unwrap());
        assert_eq!(
            identity(&headers, b"a=1").unwrap(),
            identity(&headers, b"a=2").unwrap()
        );
        headers.insert("idempotency-key", "x".repeat(201).parse().unwrap());
        assert!(identity(&headers, b"a=1").is_err());
    }
}
