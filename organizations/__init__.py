"""Who owns which stores: organizations, their members and roles, and the one scoping rule every read goes through."""
