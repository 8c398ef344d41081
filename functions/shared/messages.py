"""Messages to a person: events on the bus that the messaging system (not part of this product)
turns into an e-mail or a text. Their detail names the recipient by customer id only (the
messaging system looks the address up in its own records, so no address travels on the bus;
the one exception is a sign-up's confirmation, whose recipient is no customer yet) and
may carry a credential, such as a double opt-in's confirmation token: so no rule archives them and
nothing logs their details (infra/cdk/events.py archives completions only; tests/infra checks).

The local stack keeps every one of them in its outbox (infra/local/outbox.py, `privacyctl
outbox`): a new kind of message is added here and is in the outbox at once."""

from __future__ import annotations

# A double opt-in or a re-permission campaign asks the customer to confirm a consent
# (functions/consents/messages.py says what it carries).
CONSENT_CONFIRMATION_REQUESTED = "ConsentConfirmationRequested"

# A customer asked for a link to the preference centre (functions/consents/messages.py).
PREFERENCE_LINK_REQUESTED = "PreferenceLinkRequested"

# Someone asked to sign up with an address no customer has (functions/consents/signup.py). The
# one message that names its recipient by address: there is no customer to name until they
# confirm. Like every message, never archived and never logged.
SIGN_UP_CONFIRMATION_REQUESTED = "SignUpConfirmationRequested"

MESSAGE_DETAIL_TYPES: tuple[str, ...] = (
    CONSENT_CONFIRMATION_REQUESTED,
    PREFERENCE_LINK_REQUESTED,
    SIGN_UP_CONFIRMATION_REQUESTED,
)
