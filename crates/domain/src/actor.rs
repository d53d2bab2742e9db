use serde::{Deserialize, Serialize};

/// The roles docs/security.md describes. OPD roles are always scoped to one department.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// No token: a member of the public. Never carried by a token.
    Public,
    Citizen,
    Agent,
    OpdAdmin,
    OpdOfficer,
    Supervisor,
    Auditor,
    Analyst,
    System,
}

impl Role {
    /// The roles a token may carry.
    pub const ALL: [Role; 8] = [
        Role::Citizen,
        Role::Agent,
        Role::OpdAdmin,
        Role::OpdOfficer,
        Role::Supervisor,
        Role::Auditor,
        Role::Analyst,
        Role::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Public => "PUBLIC",
            Role::Citizen => "CITIZEN",
            Role::Agent => "AGENT",
            Role::OpdAdmin => "OPD_ADMIN",
            Role::OpdOfficer => "OPD_OFFICER",
            Role::Supervisor => "SUPERVISOR",
            Role::Auditor => "AUDITOR",
            Role::Analyst => "ANALYST",
            Role::System => "SYSTEM",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// OPD roles carry the department they belong to.
    pub fn is_opd_scoped(self) -> bool {
        matches!(self, Role::OpdAdmin | Role::OpdOfficer)
    }

    /// The Command Center: call-center agents and their supervisors.
    pub fn is_command_center(self) -> bool {
        matches!(self, Role::Agent | Role::Supervisor)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is acting: taken from the verified token, never from client input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub role: Role,
    pub opd: Option<String>,
}

impl Actor {
    pub fn new(id: impl Into<String>, role: Role, opd: Option<&str>) -> Self {
        Actor {
            id: id.into(),
            role,
            opd: opd.map(str::to_string),
        }
    }

    /// A caller without a token.
    pub fn public() -> Self {
        Actor::new("public", Role::Public, None)
    }

    /// True when this actor is an OPD admin or officer of `opd`.
    pub fn works_for(&self, opd: Option<&str>) -> bool {
        self.role.is_opd_scoped() && opd.is_some() && self.opd.as_deref() == opd
    }
}
