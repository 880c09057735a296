//! `CreatePrimeApiUser`, `GetPrimeApiUser`, `ListPrimeApiUsers`, `UpdatePrimeApiUser`,
//! `UpdatePrimeApiUserRoles`.

use prime_core::endpoints::{
    CreateApiUser, Data, Extra, GetApiUser, ListApiUsers, Role, UpdateApiUser, UpdateApiUserRoles,
    UserStatus,
};

use crate::account::{Account, Rejection, User, invalid, success};

/// Only the documented roles; the core keeps unknown ones as `Other`, the simulator refuses them.
fn known_role(role: Role) -> Result<Role, Rejection> {
    match role {
        Role::Trader | Role::Viewer => Ok(role),
        Role::Other(_) => Err(invalid("role")),
    }
}

impl Account {
    pub(crate) fn create_api_user(&mut self, args: CreateApiUser) -> Result<Vec<u8>, Rejection> {
        let role = known_role(args.role)?;
        let user = User {
            id: self.new_user_id(),
            name: args.name,
            role,
            status: UserStatus::Enabled,
        };
        let body = success(&user.to_api());
        self.users.push(user);
        Ok(body)
    }

    fn user(&self, user_id: &str) -> Result<usize, Rejection> {
        self.user_index(user_id).ok_or_else(|| invalid("user_id"))
    }

    pub(crate) fn get_api_user(&self, args: GetApiUser) -> Result<Vec<u8>, Rejection> {
        let user = self.user(&args.user_id)?;
        Ok(success(&Data {
            data: self.users[user].to_api(),
            extra: Extra::new(),
        }))
    }

    pub(crate) fn list_api_users(&self, _: ListApiUsers) -> Result<Vec<u8>, Rejection> {
        Ok(success(&Data {
            data: self.users.iter().map(User::to_api).collect::<Vec<_>>(),
            extra: Extra::new(),
        }))
    }

    /// Disabling a user makes its keys `EAPI:Invalid key` until it is enabled again; its keys
    /// are kept, not deleted.
    pub(crate) fn update_api_user(&mut self, args: UpdateApiUser) -> Result<Vec<u8>, Rejection> {
        let user = self.user(&args.user_id)?;
        let status = match args.status {
            None => None,
            Some(status @ (UserStatus::Enabled | UserStatus::Disabled)) => Some(status),
            Some(UserStatus::Other(_)) => return Err(invalid("status")),
        };
        let user = &mut self.users[user];
        if let Some(name) = args.name {
            user.name = name;
        }
        if let Some(status) = status {
            user.status = status;
        }
        Ok(success(&user.to_api()))
    }

    pub(crate) fn update_api_user_roles(
        &mut self,
        args: UpdateApiUserRoles,
    ) -> Result<Vec<u8>, Rejection> {
        let user = self.user(&args.user_id)?;
        let role = known_role(args.role)?;
        let user = &mut self.users[user];
        user.role = role;
        Ok(success(&user.to_api()))
    }
}
