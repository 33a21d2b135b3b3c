//! Sites and memberships (spec §2.2.2, §2.2.3, §2.3).

use crate::audit::{self, AuditRecord};
use crate::backend::{db_row, Arg, Sql, Ts, Tx};
use crate::cache::{Gen, Key, Kind};
use crate::error::{Error, Result};
use crate::exec::{Fresh, Op};
use crate::model::{Member, Role, Site};
use crate::store::InteractionStore;
use crate::validate;

db_row! {
    struct SiteRow {
        site_id: i32,
        name: String,
        description: Option<String>,
        is_active: bool,
    }
}

impl From<SiteRow> for Site {
    fn from(r: SiteRow) -> Self {
        Site {
            id: r.site_id.into(),
            name: r.name,
            description: r.description,
            is_active: r.is_active,
        }
    }
}

db_row! {
    struct MemberRow {
        user_id: i32,
        username: String,
        role: String,
        assigned_at: Ts,
    }
}

const SITE_COLUMNS: &str = "site_id, name, description, is_active";

impl InteractionStore {
    /// Creates an active site. A duplicate name is [`Error::Conflict`].
    pub async fn create_site(&self, name: &str, description: Option<&str>) -> Result<Site> {
        validate::required("name", name, 100)?;
        validate::long_text("description", description)?;
        let mut q = self.sql("INSERT INTO sites (name, description, is_active) VALUES (");
        q.bind(name)
            .push(", ")
            .bind(description)
            .push(", ")
            .bind(true)
            .push(") RETURNING ")
            .push(SITE_COLUMNS);
        self.write(Op::new("create_site").invalidates(Gen::SiteList), move |tx| Box::pin(async move {
            let site: Site = tx.fetch_one::<SiteRow>(&q).await?.into();
            audit::record(
                tx,
                AuditRecord {
                    actor: None,
                    site: Some(site.id as i32),
                    action: "create",
                    entity: "site",
                    entity_id: Some(site.id),
                    changes: serde_json::json!({"name": site.name, "description": site.description}),
                },
            )
            .await?;
            Ok(site)
        }))
        .await
    }

    /// Reads a site.
    pub async fn get_site(&self, site_id: i64) -> Result<Site> {
        let id = validate::id("site_id", site_id)?;
        let mut q = self.sql("SELECT ");
        q.push(SITE_COLUMNS)
            .push(" FROM sites WHERE site_id = ")
            .bind(id);
        let op = Op::new("get_site");
        let site = self
            .cached(&op, Kind::Lookup, Key::Site(id), |_| async {
                let row = self
                    .read_opt::<SiteRow>(op.clone(), Fresh::Latest, q)
                    .await?;
                // A missing site is not remembered: it may be created next.
                let ttl = row.is_none().then_some(std::time::Duration::ZERO);
                Ok((row.map(Site::from), ttl))
            })
            .await?;
        site.ok_or_else(|| Error::not_found("site", site_id))
    }

    /// All sites, by name.
    pub async fn list_sites(&self) -> Result<Vec<Site>> {
        let mut q = self.sql("SELECT ");
        q.push(SITE_COLUMNS).push(" FROM sites ORDER BY name");
        let op = Op::new("list_sites");
        self.cached(&op, Kind::Lookup, Key::SiteList, |_| async {
            let rows = self
                .read_all::<SiteRow>(op.clone(), Fresh::Latest, q)
                .await?;
            Ok((rows.into_iter().map(Site::from).collect::<Vec<_>>(), None))
        })
        .await
    }

    /// Activates or deactivates a site. Sessions cannot be opened on an inactive site.
    pub async fn set_site_active(&self, site_id: i64, active: bool) -> Result<Site> {
        let id = validate::id("site_id", site_id)?;
        self.write(
            Op::new("set_site_active")
                .invalidates(Gen::Site(id))
                .invalidates(Gen::SiteList),
            move |tx| {
                Box::pin(async move {
                    let mut q = Sql::new(tx.backend(), "UPDATE sites SET is_active = ");
                    q.bind(active)
                        .push(" WHERE site_id = ")
                        .bind(id)
                        .push(" RETURNING ")
                        .push(SITE_COLUMNS);
                    let site: Site = tx
                        .fetch_optional::<SiteRow>(&q)
                        .await?
                        .ok_or_else(|| Error::not_found("site", site_id))?
                        .into();
                    audit::record(
                        tx,
                        AuditRecord {
                            actor: None,
                            site: Some(id),
                            action: if active { "activate" } else { "deactivate" },
                            entity: "site",
                            entity_id: Some(site_id),
                            changes: serde_json::json!({"is_active": active}),
                        },
                    )
                    .await?;
                    Ok(site)
                })
            },
        )
        .await
    }

    /// Gives `user_id` the `role` at `site_id` (replacing any earlier role). For the host
    /// application's own administration, e.g. to create a site's first admin; site admins
    /// use [`SiteSession::set_member_role`](crate::SiteSession::set_member_role).
    pub async fn grant_role(&self, user_id: i64, site_id: i64, role: Role) -> Result<()> {
        let user = validate::id("user_id", user_id)?;
        let site = validate::id("site_id", site_id)?;
        self.write(
            Op::new("grant_role").invalidates(Gen::User(user)),
            move |tx| {
                Box::pin(async move {
                    set_role(tx, None, site, user, role).await?;
                    Ok(())
                })
            },
        )
        .await
    }

    /// The sites `user_id` belongs to, with the role at each.
    pub async fn user_sites(&self, user_id: i64) -> Result<Vec<(Site, Role)>> {
        let id = validate::id("user_id", user_id)?;
        let q = Sql::fixed(
            self.backend(),
            "SELECT s.site_id, s.name, s.description, s.is_active, m.role \
             FROM user_site_mapping m JOIN sites s ON s.site_id = m.site_id \
             WHERE m.user_id = $1 ORDER BY s.name",
            vec![Arg::I32(id)],
        );
        let rows: Vec<(i32, String, Option<String>, bool, String)> = self
            .read_all(Op::new("user_sites"), Fresh::Latest, q)
            .await?;
        rows.into_iter()
            .map(|(site_id, name, description, is_active, role)| {
                Ok((
                    Site {
                        id: site_id.into(),
                        name,
                        description,
                        is_active,
                    },
                    role.parse()?,
                ))
            })
            .collect()
    }
}

/// Upserts a membership and audits it; shared by the host-level and the site-admin path.
pub(crate) async fn set_role(
    tx: &mut Tx,
    actor: Option<i32>,
    site: i32,
    user: i32,
    role: Role,
) -> Result<()> {
    let b = tx.backend();
    let exists: Option<(i32,)> = tx
        .fetch_optional(&Sql::fixed(
            b,
            "SELECT u.user_id FROM users u, sites s WHERE u.user_id = $1 AND s.site_id = $2",
            vec![Arg::I32(user), Arg::I32(site)],
        ))
        .await?;
    if exists.is_none() {
        return Err(Error::not_found("user or site", format!("{user}/{site}")));
    }
    let old: Option<(String,)> = tx
        .fetch_optional(&Sql::fixed(
            b,
            &format!(
                "SELECT role FROM user_site_mapping WHERE user_id = $1 AND site_id = $2{}",
                b.dialect().for_update()
            ),
            vec![Arg::I32(user), Arg::I32(site)],
        ))
        .await?;
    tx.execute(&Sql::fixed(
        b,
        "INSERT INTO user_site_mapping (user_id, site_id, role, assigned_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, site_id) DO UPDATE SET role = excluded.role, assigned_at = excluded.assigned_at",
        vec![Arg::I32(user), Arg::I32(site), role.as_str().into(), Arg::Ts(tx.now())],
    ))
    .await?;
    audit::record(
        tx,
        AuditRecord {
            actor,
            site: Some(site),
            action: "set_role",
            entity: "membership",
            entity_id: Some(user.into()),
            changes: serde_json::json!({"role": {"old": old.map(|r| r.0), "new": role.as_str()}}),
        },
    )
    .await
}

/// Removes a membership and audits it.
pub(crate) async fn remove_member(
    tx: &mut Tx,
    actor: Option<i32>,
    site: i32,
    user: i32,
) -> Result<()> {
    let b = tx.backend();
    let old: Option<(String,)> = tx
        .fetch_optional(&Sql::fixed(
            b,
            "DELETE FROM user_site_mapping WHERE user_id = $1 AND site_id = $2 RETURNING role",
            vec![Arg::I32(user), Arg::I32(site)],
        ))
        .await?;
    let Some((old,)) = old else {
        return Err(Error::not_found("member", user));
    };
    audit::record(
        tx,
        AuditRecord {
            actor,
            site: Some(site),
            action: "remove_member",
            entity: "membership",
            entity_id: Some(user.into()),
            changes: serde_json::json!({"role": {"old": old, "new": null}}),
        },
    )
    .await
}

/// Members of a site, by username.
pub(crate) async fn members(store: &InteractionStore, site: i32) -> Result<Vec<Member>> {
    let q = Sql::fixed(
        store.backend(),
        "SELECT m.user_id, u.username, m.role, m.assigned_at FROM user_site_mapping m \
         JOIN users u ON u.user_id = m.user_id WHERE m.site_id = $1 ORDER BY u.username",
        vec![Arg::I32(site)],
    );
    store
        .read_all::<MemberRow>(Op::site("members", site), Fresh::Latest, q)
        .await?
        .into_iter()
        .map(|r| {
            Ok(Member {
                user_id: r.user_id.into(),
                username: r.username,
                role: r.role.parse()?,
                assigned_at: r.assigned_at.0,
            })
        })
        .collect()
}
