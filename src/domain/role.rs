use super::stored_name::stored_name;

/// A member's role on a product or product group. The order of the variants
/// is the rank: comparing two roles compares their rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, async_graphql::Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum Role {
    Reader,
    Upload,
    Writer,
    Maintainer,
    Owner,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Reader, Role::Upload, Role::Writer, Role::Maintainer, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "READER",
            Role::Upload => "UPLOAD",
            Role::Writer => "WRITER",
            Role::Maintainer => "MAINTAINER",
            Role::Owner => "OWNER",
        }
    }

    /// The role a user holds on a product: the highest of their role on the
    /// product and on its group; administrators act as owners everywhere.
    pub fn effective(is_admin: bool, on_product: Option<Role>, on_group: Option<Role>) -> Option<Role> {
        if is_admin {
            return Some(Role::Owner);
        }
        on_product.max(on_group)
    }

    /// Whether a member holding `self` may give `target` to someone (or take
    /// it away): only owners hand out or remove the owner role.
    pub fn may_assign(self, target: Role) -> bool {
        self >= Role::Maintainer && (target < Role::Owner || self == Role::Owner)
    }
}

/// Whether changing one member from `before` to `after` (`None`: not a
/// member) would leave a product or group without an OWNER of its own;
/// `owners` counts its OWNERs before the change. Only the scope's own
/// OWNERs count: administrators are OWNERs of everything, and a product's
/// group OWNERs lose it when it leaves the group, so neither keeps a
/// product looked after.
pub fn leaves_no_owner(owners: u64, before: Option<Role>, after: Option<Role>) -> bool {
    before == Some(Role::Owner) && after != Some(Role::Owner) && owners <= 1
}

stored_name!(Role);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_compare_by_rank() {
        assert!(Role::Reader < Role::Upload);
        assert!(Role::Upload < Role::Writer);
        assert!(Role::Writer < Role::Maintainer);
        assert!(Role::Maintainer < Role::Owner);
    }

    #[test]
    fn effective_role_is_the_highest_and_admins_own_everything() {
        assert_eq!(Role::effective(false, None, None), None);
        assert_eq!(
            Role::effective(false, Some(Role::Reader), Some(Role::Writer)),
            Some(Role::Writer)
        );
        assert_eq!(
            Role::effective(false, Some(Role::Owner), Some(Role::Reader)),
            Some(Role::Owner)
        );
        assert_eq!(Role::effective(false, None, Some(Role::Upload)), Some(Role::Upload));
        assert_eq!(Role::effective(true, None, None), Some(Role::Owner));
    }

    #[test]
    fn only_owners_assign_owner() {
        assert!(Role::Owner.may_assign(Role::Owner));
        assert!(Role::Maintainer.may_assign(Role::Maintainer));
        assert!(!Role::Maintainer.may_assign(Role::Owner));
        assert!(!Role::Writer.may_assign(Role::Reader));
    }

    #[test]
    fn the_last_owner_stays() {
        let owner = Some(Role::Owner);
        assert!(leaves_no_owner(1, owner, None));
        assert!(leaves_no_owner(1, owner, Some(Role::Maintainer)));
        assert!(!leaves_no_owner(2, owner, None));
        assert!(!leaves_no_owner(1, owner, owner));
        assert!(!leaves_no_owner(1, Some(Role::Maintainer), None));
        assert!(!leaves_no_owner(0, None, Some(Role::Reader)));
    }

    #[test]
    fn parses_what_it_prints() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("ADMIN".parse::<Role>().is_err());
    }
}
