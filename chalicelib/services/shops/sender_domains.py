"""Sending domains: a shop sends only from a domain it registered, and only once SES has
verified it (docs/security.md, "Sending as a shop").

- A shop registers its domain (``POST /admin/shops/{shop}/sender-domains``) or simply sets
  ``sender_email`` on a domain nobody registered: the claim is one conditional write (a
  second shop gets 409, however close together they come), then the service creates the
  SES identity with Easy DKIM and a custom MAIL FROM and answers the DNS records to publish.
- A domain another shop registered is refused, and so is a subdomain of one (SES lets a
  verified domain send from its subdomains). A claim that never verified is free again
  after SES's verification window (72 hours), so nobody can squat a brand's domain.
- Mail from a sender that is not verified (or not the shop's) is *held*, never sent and
  never silently failed: its send log says ``held`` with the reason, the message waits,
  and it goes out once SES verifies the domain (the status refresh or the schedule).
- An identity SES already had before any shop registered it (set up by hand before this
  feature) goes only to the one shop whose saved ``sender_email`` was on it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Optional

from chalicelib.domain.shops import sender_domains as rules
from chalicelib.errors import BadRequest, Conflict, NotFound, ServiceError
from chalicelib.mail.identities import Identities, IdentityError
from chalicelib.store.shops.sender_domains import ClaimLost, DomainClaim

logger = logging.getLogger("loyalty.sender")

# SES looks for the DKIM records for 72 hours, then gives up (status FAILED): a claim that has not
# verified by then no longer keeps other shops off the domain.
VERIFICATION_WINDOW = timedelta(hours=72)
MAX_DOMAINS_PER_SHOP = 10
SENDER_UNVERIFIED = "sender_unverified"
SENDER_NOT_REGISTERED = "sender_domain_not_registered"


class SesUnavailable(ServiceError):
    status = 502
    code = "ses_unavailable"


# -- registering -----------------------------------------------------------------------------

def register_domain(deps, shop_id: str, body: dict, *, now: Optional[datetime] = None,
                    identities: Optional[Identities] = None) -> tuple[dict, bool]:
    """Claim a domain for the shop and set up its SES identity. (view, created)."""
    from chalicelib.services.shops.lookup import load_shop

    load_shop(deps, shop_id)
    unknown = sorted(set(body) - {"domain", "mail_from_subdomain"})
    if unknown:
        raise BadRequest(f"{unknown[0]}: not a field of a sending domain (domain, mail_from_subdomain)",
                         field=unknown[0])
    domain = _domain_field(body.get("domain"), "domain")
    try:
        label = rules.normalise_mail_from_label(body.get("mail_from_subdomain"))
    except rules.DomainRejected as error:
        raise BadRequest(f"mail_from_subdomain: {error}", field="mail_from_subdomain") from None
    claim, created = claim_domain(deps, shop_id, domain, label, now=now or deps.clock(),
                                  identities=identities or deps.identities, field="domain")
    return domain_view(claim, identities or deps.identities), created


def ensure_sender_domain(deps, shop_id: str, sender_email: str, *, previous_sender: Optional[str] = None,
                         now: Optional[datetime] = None, identities: Optional[Identities] = None) -> None:
    """Before a shop's settings are saved: its ``sender_email`` must be on a domain it owns.
    An unclaimed domain is claimed for it now (and its SES identity created, pending until
    the DNS records are published); another shop's domain is a 409 naming ``sender_email``."""
    domain = rules.sender_domain(sender_email)
    store = deps.repos.sender_domains()
    claim = store.get(domain)
    if claim is not None and claim.shop_id == shop_id:
        return
    claim_domain(deps, shop_id, domain, rules.DEFAULT_MAIL_FROM_LABEL, now=now or deps.clock(),
                 identities=identities or deps.identities, field="sender_email",
                 legacy_sender=previous_sender is not None and rules.sender_domain(previous_sender) == domain)


def claim_domain(deps, shop_id: str, domain: str, mail_from_label: str, *, now: datetime, identities: Identities,
                 field: str, legacy_sender: bool = False) -> tuple[DomainClaim, bool]:
    store = deps.repos.sender_domains()
    existing = store.get(domain)
    if existing is not None and existing.shop_id == shop_id:
        claim = _set_up_identity(deps, existing, f"{mail_from_label}.{domain}", identities, now)
        return claim, False
    if existing is not None:
        if not _stale(deps, existing, now, identities):
            raise Conflict(f"{field}: {domain} is registered by another shop; a domain sends for one shop only",
                           field=field, reason="domain_taken")
        logger.info("sender domain %s: the unverified claim of another shop ran out; claimed by %s", domain, shop_id)
    for parent in rules.parent_domains(domain):
        owner = store.get(parent)
        if owner is not None and owner.shop_id != shop_id and not _stale(deps, owner, now, identities):
            raise Conflict(f"{field}: {domain} is under {parent}, which another shop registered",
                           field=field, reason="parent_domain_taken")
    if len(store.domains_of(shop_id)) >= MAX_DOMAINS_PER_SHOP:
        raise Conflict(f"{field}: a shop may register at most {MAX_DOMAINS_PER_SHOP} sending domains; "
                       "remove one first", field=field, reason="too_many_domains")
    claim = DomainClaim(domain=domain, shop_id=shop_id, status=rules.NOT_STARTED, claimed_at=now,
                        identity={"mail_from_domain": f"{mail_from_label}.{domain}"})
    try:
        store.claim(claim, parents=rules.parent_domains(domain), replacing=existing)
    except ClaimLost:
        raise Conflict(f"{field}: {domain} (or a domain above it) was just registered by another shop",
                       field=field, reason="domain_taken") from None
    try:
        _, created = identities.create_domain(domain)
        if not created and existing is None and not (legacy_sender and _sole_sender(deps, domain, shop_id)):
            # SES had this identity before any shop registered it here: its verification was
            # somebody else's DNS work, so it must not make this claimant a verified sender.
            store.release(domain, shop_id)
            raise Conflict(f"{field}: SES already has an identity for {domain} that no shop registered here; "
                           "the operator assigns it (the sender-domain refresh adopts it for the one shop "
                           "whose sender_email is on it)", field=field, reason="identity_exists_unowned")
        if not created and existing is not None:
            # Taken over after the window: SES starts again with new DKIM tokens.
            identities.delete(domain)
            identities.create_domain(domain)
    except IdentityError as error:
        logger.warning("sender domain %s: SES identity not created: %s", domain, error)
        raise SesUnavailable(f"{field}: SES could not create the identity for {domain} ({error}); "
                             "send the same request again", field=field) from None
    return _set_up_identity(deps, claim, f"{mail_from_label}.{domain}", identities, now), True


def _set_up_identity(deps, claim: DomainClaim, mail_from_domain: str, identities: Identities, now: datetime) -> DomainClaim:
    """The identity exists with Easy DKIM and the MAIL FROM domain; its status is read back and stored."""
    try:
        answer = identities.get(claim.domain)
        if answer is None:
            identities.create_domain(claim.domain)
        if (answer or {}).get("MailFromAttributes", {}).get("MailFromDomain") != mail_from_domain:
            identities.set_mail_from(claim.domain, mail_from_domain)
    except IdentityError as error:
        raise SesUnavailable(f"domain: SES could not set up {claim.domain} ({error}); send the same request again",
                             field="domain") from None
    return refresh(deps, claim, identities, now)


def _stale(deps, claim: DomainClaim, now: datetime, identities: Identities) -> bool:
    """Another shop's claim that never verified within SES's window (SES asked again to be sure)."""
    if claim.verified or claim.claimed_at > now - VERIFICATION_WINDOW:
        return False
    return not refresh(deps, claim, identities, now).verified


def _sole_sender(deps, domain: str, shop_id: str) -> bool:
    """Whether this shop, and no other, had saved a sender_email on the domain."""

    repo = deps.repos.shops()
    users = set()
    for other_id, _ in repo.list_ids():
        stored = repo.get(other_id)
        sender = (stored.config.get("sender_email") or "") if stored else ""
        if sender.rpartition("@")[2] == domain:
            users.add(other_id)
    return users == {shop_id}


# -- reading -----------------------------------------------------------------------------------

def list_domains(deps, shop_id: str, *, now: Optional[datetime] = None, identities: Optional[Identities] = None) -> dict:
    """The shop's sending status: its sender, whether mail goes or is held (and how many are
    waiting), and each registered domain with its DNS records and SES's status (unverified
    ones asked again)."""
    from chalicelib.services.shops.lookup import load_shop

    shop = load_shop(deps, shop_id)
    now, identities = now or deps.clock(), identities or deps.identities
    store = deps.repos.sender_domains()
    views = []
    for domain in store.domains_of(shop_id):
        claim = store.get(domain)
        if claim is None or claim.shop_id != shop_id:
            continue
        if not claim.verified:
            claim = _refresh_quietly(deps, claim, identities, now)
        views.append(domain_view(claim, identities))
    reason = hold_reason(deps, shop, now=now, identities=identities)
    held = deps.repos.held_mail(shop_id).count()
    if reason is None and held:
        try:
            held -= release_held(deps, shop_id, now=now)["released"]
        except Exception:  # the queue is unreachable: the schedule releases them later
            logger.warning("shop %s: held mail not released now", shop_id, exc_info=True)
    return {"shop_id": shop_id, "sender_email": shop.sender_email,
            "sender_domain": rules.sender_domain(shop.sender_email),
            "sending": {"status": "held" if reason else "ready", "reason": reason, "held_messages": held},
            "domains": views}


def get_domain(deps, shop_id: str, domain: str, *, now: Optional[datetime] = None,
               identities: Optional[Identities] = None) -> dict:
    """One domain, with SES asked now; if it has just verified, the shop's held mail goes."""
    from chalicelib.services.shops.lookup import load_shop

    shop = load_shop(deps, shop_id)
    now, identities = now or deps.clock(), identities or deps.identities
    claim = _own_claim(deps, shop_id, _domain_field(domain, "domain"))
    was_verified = claim.verified
    claim = _refresh_quietly(deps, claim, identities, now)
    if claim.verified and not was_verified and rules.sender_domain(shop.sender_email) == claim.domain:
        release_held(deps, shop_id, now=now)
    return domain_view(claim, identities)


def remove_domain(deps, shop_id: str, domain: str, *, identities: Optional[Identities] = None) -> dict:
    from chalicelib.services.shops.lookup import load_shop

    shop = load_shop(deps, shop_id)
    identities = identities or deps.identities
    claim = _own_claim(deps, shop_id, _domain_field(domain, "domain"))
    if rules.sender_domain(shop.sender_email) == claim.domain:
        raise Conflict(f"domain: {claim.domain} is the domain of the shop's sender_email {shop.sender_email}; "
                       "change sender_email first", field="domain", reason="sender_uses_domain")
    try:
        identities.delete(claim.domain)
    except IdentityError as error:
        raise SesUnavailable(f"domain: SES could not delete the identity ({error}); try again", field="domain") from None
    try:
        deps.repos.sender_domains().release(claim.domain, shop_id)
    except ClaimLost:
        pass  # gone already
    _forget_gate(deps, claim.domain)
    return {"domain": claim.domain, "removed": True}


def release_domains_of_erased_shop(deps, shop_id: str, *, identities: Optional[Identities] = None) -> int:
    """An erased shop's domains are free for whoever owns them next: each SES identity deleted
    and each claim given up. Returns how many claims were released."""
    store = deps.repos.sender_domains()
    identities = identities or deps.identities
    released = 0
    for domain in store.domains_of(shop_id):
        try:
            identities.delete(domain)
        except IdentityError as error:
            raise SesUnavailable(f"domain: SES could not delete the identity ({error})", field="domain") from None
        try:
            store.release(domain, shop_id)
        except ClaimLost:
            pass
        _forget_gate(deps, domain)
        released += 1
    return released


def _own_claim(deps, shop_id: str, domain: str) -> DomainClaim:
    claim = deps.repos.sender_domains().get(domain)
    if claim is None or claim.shop_id != shop_id:
        raise NotFound(f"domain: this shop has no sending domain {domain}", field="domain")
    return claim


def domain_view(claim: DomainClaim, identities: Identities) -> dict:
    identity = claim.identity or {}
    region = identity.get("region") or _region(identities)
    records = rules.dns_records(claim.domain, list(identity.get("dkim_tokens") or []),
                                identity.get("mail_from_domain"), region)
    return {
        "domain": claim.domain, "display_name": _unicode(claim.domain), "status": claim.status,
        "verified": claim.verified,
        "dkim": {"status": identity.get("dkim_status") or "NOT_STARTED"},
        "mail_from": {"domain": identity.get("mail_from_domain"), "status": identity.get("mail_from_status")},
        "records": [record.as_dict() for record in records],
        "claimed_at": claim.claimed_at.isoformat(), "verified_at": claim.verified_at.isoformat() if claim.verified_at
        else None, "checked_at": claim.checked_at.isoformat() if claim.checked_at else None,
        "note": None if claim.verified else
        "publish the required records at the domain's DNS host; SES checks them for up to 72 hours, and held "
        "mail goes out once the domain is verified",
    }


# -- SES status ----------------------------------------------------------------------------------

def refresh(deps, claim: DomainClaim, identities: Identities, now: datetime) -> DomainClaim:
    """Ask SES about the identity and store the answer (only while the claim is still the shop's)."""
    answer = identities.get(claim.domain)
    if answer is None:
        status = rules.IdentityStatus(False, "NOT_STARTED", (), None, None)
    else:
        status = rules.identity_status(answer)
    claim.status = status.status
    claim.checked_at = now
    if claim.verified and claim.verified_at is None:
        claim.verified_at = now
    if not claim.verified:
        claim.verified_at = None
    claim.identity = {**claim.identity, "dkim_status": status.dkim_status, "dkim_tokens": list(status.dkim_tokens),
                      "mail_from_domain": status.mail_from_domain or claim.identity.get("mail_from_domain"),
                      "mail_from_status": status.mail_from_status, "region": _region(identities)}
    deps.repos.sender_domains().record_status(claim)
    _forget_gate(deps, claim.domain)
    return claim


def _refresh_quietly(deps, claim: DomainClaim, identities: Identities, now: datetime) -> DomainClaim:
    try:
        return refresh(deps, claim, identities, now)
    except IdentityError as error:
        logger.warning("sender domain %s: SES status not read: %s", claim.domain, error)
        return claim


# -- the send path ---------------------------------------------------------------------------------

def hold_reason(deps, shop, *, now: Optional[datetime] = None, identities: Optional[Identities] = None) -> Optional[str]:
    """None when the shop's sender may send now; else why its mail is held. A verified claim is
    remembered for the shop cache time; an unverified one asks SES at most once a minute per
    container, so mail goes as soon as the domain verifies."""
    domain = rules.sender_domain(shop.sender_email)
    claim = _cached_claim(deps, domain)
    if claim is None or claim.shop_id != shop.shop_id:
        return SENDER_NOT_REGISTERED
    if claim.verified:
        return None
    if deps.caches.ses_checks.mark_if_due(domain):
        claim = _refresh_quietly(deps, claim, identities or deps.identities, now or deps.clock())
    return None if claim.verified else SENDER_UNVERIFIED


def sender_rejected(deps, shop) -> None:
    """SES refused the sender as unverified although we had it verified (its DNS records were
    removed): look again before the next send."""
    domain = rules.sender_domain(shop.sender_email)
    claim = deps.repos.sender_domains().get(domain)
    if claim is not None and claim.shop_id == shop.shop_id:
        deps.caches.ses_checks.pop(domain)
        _refresh_quietly(deps, claim, deps.identities, deps.clock())
    _forget_gate(deps, domain)


def _cached_claim(deps, domain: str) -> Optional[DomainClaim]:
    cached = deps.caches.sender_claims.get(domain)
    if cached is not None:
        return cached
    claim = deps.repos.sender_domains().get(domain)
    if claim is not None and claim.verified:
        deps.caches.sender_claims.put(domain, claim)
    return claim


def _forget_gate(deps, domain: str) -> None:
    deps.caches.sender_claims.pop(domain)


# -- held mail -------------------------------------------------------------------------------------

def release_held(deps, shop_id: str, *, now: Optional[datetime] = None, batch: int = 500) -> dict:
    """Send the shop's held mail again through the queue, once its sender can send. Each message
    keeps its idempotency key, so one released twice is sent once."""
    from chalicelib.domain.campaigns.links import subject_of
    from chalicelib.mail import outbox
    from chalicelib.services.shops.lookup import load_shop

    shop = load_shop(deps, shop_id)
    if hold_reason(deps, shop, now=now) is not None:
        return {"released": 0}
    held = deps.repos.held_mail(shop_id)
    released = 0
    while True:
        waiting = held.waiting(limit=batch)
        if not waiting:
            break
        outbox.publish_or_raise(deps, [message.message for message in waiting])
        held.forget([message.idempotency_key for message in waiting])
        released += len(waiting)
        for message in waiting:
            try:  # the results count it as held no more (sent, skipped … when it is handled)
                deps.repos.results(shop_id, subject_of(message.message.get("campaign_id"), message.message.get("template", ""))
                        ).add(f"held_{message.reason}", message.message.get("customer_id", ""), -1)
            except Exception:
                logger.warning("could not uncount a held message", exc_info=True)
        if len(waiting) < batch:
            break
    if released:
        logger.info("released %d held message(s) of shop %s", released, shop_id)
    return {"released": released}


def refresh_all(deps, *, now: Optional[datetime] = None, identities: Optional[Identities] = None) -> dict:
    """The schedule: adopt SES identities that predate sender onboarding for their one shop, ask
    SES about every unverified claim, and release held mail of every shop that can send now."""
    from chalicelib.services.shops.lookup import load_shop

    now, identities = now or deps.clock(), identities or deps.identities
    store = deps.repos.sender_domains()
    checked = adopted = released = 0
    for domain in store.unverified():
        claim = store.get(domain)
        if claim is not None and not claim.verified:
            _refresh_quietly(deps, claim, identities, now)
            checked += 1
    for shop_id, _ in deps.repos.shops().list_ids():
        try:
            shop = load_shop(deps, shop_id)
        except (NotFound, ValueError):
            continue
        domain = rules.sender_domain(shop.sender_email)
        if store.get(domain) is None:
            try:
                ensure_sender_domain(deps, shop_id, shop.sender_email, previous_sender=shop.sender_email, now=now,
                                     identities=identities)
                adopted += 1
            except ServiceError as error:
                logger.warning("shop %s: sender domain %s not adopted: %s", shop_id, domain, error.message)
        if deps.repos.held_mail(shop_id).count(up_to=1):
            released += release_held(deps, shop_id, now=now)["released"]
    return {"checked": checked, "adopted": adopted, "released": released}


# -- helpers ---------------------------------------------------------------------------------------

def _domain_field(value: object, field: str) -> str:
    try:
        return rules.normalise_domain(value)
    except rules.DomainRejected as error:
        raise BadRequest(f"{field}: {error}", field=field) from None


def _unicode(domain: str) -> str:
    try:
        import idna

        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError, ValueError):
        return domain


def _region(identities: Identities) -> str:
    try:
        return identities.region
    except Exception:  # no region configured: the record still names where to look
        return "<region>"
