"""Staff accounts and sign-in: who a person is, how they sign in, and how guessing is slowed.
What a signed-in person may do is crm.policy's."""
