"""A shop's flows as data: the shipped defaults until the shop saves its own, edited through
the admin API and the workspace, each with its per-step funnel."""
from __future__ import annotations

from chalicelib.domain.flows.definitions import FlowDefinition, FlowError, default_flows, flow_document, parse_flow
from chalicelib.domain.money import to_minor
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.services.shops.lookup import load_shop

FUNNEL_SUBJECT = "steps:{flow_id}"


def shop_flows(deps, shop_id: str) -> list[tuple[FlowDefinition, int]]:
    """Every flow of the shop with its version (0: the shipped default, never saved). Shipped
    defaults start switched off: a shop turns each on (a shop may not want every flow)."""
    saved = deps.repos.flows(shop_id).definitions()
    flows = []
    for default in default_flows():
        if default.flow_id not in saved:
            flows.append((default.model_copy(update={"enabled": False}), 0))
    for flow_id, (document, version) in sorted(saved.items()):
        flows.append((parse_flow(document), version))
    return flows


def enabled_flows(deps, shop_id: str, trigger: str) -> list[FlowDefinition]:
    flows = deps.caches.flows.get_or_load(
        shop_id, lambda: [flow for flow, _ in shop_flows(deps, shop_id) if flow.enabled])
    return [flow for flow in flows if flow.trigger.kind == trigger]


def list_flows(deps, shop_id: str) -> dict:
    return {"flows": [_view(deps, shop_id, flow, version) for flow, version in shop_flows(deps, shop_id)]}


def get_flow(deps, shop_id: str, flow_id: str) -> dict:
    for flow, version in shop_flows(deps, shop_id):
        if flow.flow_id == flow_id:
            return _view(deps, shop_id, flow, version)
    raise NotFound(f"flow_id: no flow {flow_id!r}", field="flow_id")


def put_flow(deps, shop_id: str, flow_id: str, document, expected_version) -> dict:
    """Create or replace a flow; ``version`` in the body must be the one read (0 for new)."""
    if not isinstance(document, dict):
        raise BadRequest("body: a flow is a JSON object", field="body")
    body = {key: value for key, value in document.items() if key not in ("version", "funnel")}
    body.setdefault("flow_id", flow_id)
    if body["flow_id"] != flow_id:
        raise BadRequest("flow_id: must match the path", field="flow_id")
    try:
        flow = parse_flow(body)
    except FlowError as error:
        raise BadRequest(str(error), field=error.field) from None
    _refuse_worthless_offers(load_shop(deps, shop_id), flow)
    if not isinstance(expected_version, int) or isinstance(expected_version, bool) or expected_version < 0:
        raise BadRequest("version: the version you read (0 for a new flow)", field="version")
    try:
        version = deps.repos.flows(shop_id).save_definition(flow_id, flow_document(flow), expected_version,
                                                            deps.clock())
    except ValueError:
        raise Conflict("version: the flow was changed since you read it; reload it", field="version") from None
    deps.caches.flows.pop(shop_id)
    return _view(deps, shop_id, flow, version)


def _refuse_worthless_offers(shop, flow: FlowDefinition) -> None:
    """An offer's value below the currency's smallest unit makes a code worth 0.00 that the mail
    still announces (as the offers API and the reward codes refuse it)."""
    for number, step in enumerate(flow.steps):
        offer = getattr(step, "offer", None)
        if offer is not None and offer.value is not None and to_minor(offer.value, shop.currency_exponent) < 1:
            field = f"steps.{number}.send.offer.value"
            raise BadRequest(f"{field}: smaller than the currency's smallest unit ({shop.currency})", field=field)


def funnel(deps, shop_id: str, flow: FlowDefinition) -> dict:
    """Per step: how many runs reached it, sent at it, left at it; and started/completed."""
    totals = deps.repos.results(shop_id, FUNNEL_SUBJECT.format(flow_id=flow.flow_id)).totals()
    steps = [{"step": index, "type": step.type, "reached": totals.get(f"step_{index}_reached", 0),
              "sent": totals.get(f"step_{index}_sent", 0), "exited": totals.get(f"step_{index}_exited", 0)}
             for index, step in enumerate(flow.steps)]
    return {"started": totals.get("started", 0), "completed": totals.get("completed", 0), "steps": steps}


def _view(deps, shop_id: str, flow: FlowDefinition, version: int) -> dict:
    return {**flow_document(flow), "version": version, "funnel": funnel(deps, shop_id, flow)}
