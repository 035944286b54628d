"""One-to-ones: a manager's regular private conversation with each member of the team."""
