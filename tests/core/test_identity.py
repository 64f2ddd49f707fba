"""Identities: self-certifying DIDs, devices, rotation, and the 72-hour recovery window."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.core.encoding import b32, b64url, sha256
from weft.core.entry import Reason
from weft.core.identity import (
    RECOVERY_WINDOW_MS,
    IdentityLog,
    IdentityOp,
    check_device,
    decode_op,
    next_state,
    sign_op,
)
from weft.errors import EntryRejected, IdentityOpRejected

from .alice import (
    ADD_PHONE,
    DID,
    GENESIS,
    HOUR,
    KEYS,
    LAPTOP,
    MALLORY,
    NEW_SERVER,
    NOW,
    PHONE,
    RECOVERY,
    REVOKE_PHONE,
    SERVER,
    T0,
    TABLET,
    amend,
    chain,
    device,
    states,
)

LAPTOP_ONLY = {LAPTOP.did: device("laptop")}
WITH_TABLET = {**LAPTOP_ONLY, TABLET.did: device("tablet", T0 + HOUR)}


def refused(code: str) -> Any:
    return pytest.raises(IdentityOpRejected, match=f"^{code}: ")


def log_of(*held: tuple[IdentityOp, int]) -> IdentityLog:
    log = IdentityLog()
    for op, received_at in held:
        log.accept(op, received_at, now_ms=received_at)
    return log


def resign(body: dict[str, Any], key: Any = SERVER) -> bytes:
    unsigned = {k: v for k, v in body.items() if k != "sig"}
    signature = key.sign(orjson.dumps(unsigned, option=orjson.OPT_SORT_KEYS))
    return orjson.dumps({**unsigned, "sig": b64url(signature)}, option=orjson.OPT_SORT_KEYS)


# -- genesis and the DID ----------------------------------------------------


def test_the_did_is_the_truncated_hash_of_the_signed_genesis() -> None:
    state = states(GENESIS)[0]
    assert state.did == "did:weft:" + b32(sha256(GENESIS.raw)[:30])
    assert len(state.did) == len("did:weft:") + 48
    assert state.did == DID
    assert state.rotation_keys == (RECOVERY.did, SERVER.did)
    assert state.rank(RECOVERY.did) == 0 and state.rank(SERVER.did) == 1 and state.rank(MALLORY.did) is None


def test_a_different_genesis_is_a_different_identity() -> None:
    other = sign_op(SERVER, prev=None, ts=T0 + 1, rotation_keys=KEYS, devices=LAPTOP_ONLY)
    assert states(other)[0].did != DID


def test_genesis_must_be_signed_by_one_of_its_own_rotation_keys() -> None:
    with refused("unauthorized_signer"):
        next_state(None, sign_op(MALLORY, prev=None, ts=T0, rotation_keys=KEYS, devices={}), NOW)


def test_the_first_operation_must_be_a_genesis() -> None:
    with refused("not_genesis"):
        next_state(None, ADD_PHONE, NOW)


def test_genesis_cannot_revoke() -> None:
    op = sign_op(SERVER, prev=None, ts=T0, rotation_keys=KEYS, devices={}, revoked={LAPTOP.did: 0})
    with refused("malformed"):
        next_state(None, op, NOW)


# -- devices ----------------------------------------------------------------


def test_adding_a_device_authorizes_its_entries() -> None:
    before, after = states(GENESIS, ADD_PHONE)
    phone_entry = chain(PHONE, 1)[0]
    with pytest.raises(EntryRejected, match=r"^unauthorized_device: "):
        check_device(phone_entry, before)
    check_device(phone_entry, after)
    check_device(chain(LAPTOP, 1)[0], after)


def test_a_revoked_device_keeps_its_entries_up_to_its_last_seq_whatever_their_ts() -> None:
    state = states(GENESIS, ADD_PHONE, REVOKE_PHONE)[-1]
    assert state.revoked == {PHONE.did: 2} and PHONE.did not in state.devices
    backdated = chain(PHONE, 3, ts=T0 - 10 * HOUR)
    check_device(backdated[0], state)
    check_device(backdated[1], state)
    with pytest.raises(EntryRejected, match=r"^revoked_device: ") as caught:
        check_device(backdated[2], state)
    assert caught.value.code == Reason.REVOKED_DEVICE


def test_a_device_cannot_be_dropped_without_revocation() -> None:
    with refused("dropped_device"):
        next_state(states(GENESIS, ADD_PHONE)[-1], amend(ADD_PHONE, SERVER, T0 + 2 * HOUR), NOW)


def test_a_revoked_device_cannot_come_back() -> None:
    state = states(GENESIS, ADD_PHONE, REVOKE_PHONE)[-1]
    back = amend(REVOKE_PHONE, SERVER, T0 + 3 * HOUR, devices={**LAPTOP_ONLY, PHONE.did: device("phone")})
    with refused("revoked_device"):
        next_state(state, back, NOW)


@pytest.mark.parametrize("revoked", [{}, {PHONE.did: 3}], ids=["lifted", "extended"])
def test_a_revocation_cannot_be_lifted_or_extended(revoked: dict[str, int]) -> None:
    state = states(GENESIS, ADD_PHONE, REVOKE_PHONE)[-1]
    with refused("revocation_changed"):
        next_state(state, amend(REVOKE_PHONE, SERVER, T0 + 3 * HOUR, revoked=revoked), NOW)


def test_a_revocation_can_be_tightened() -> None:
    state = states(GENESIS, ADD_PHONE, REVOKE_PHONE)[-1]
    tighter = next_state(state, amend(REVOKE_PHONE, SERVER, T0 + 3 * HOUR, revoked={PHONE.did: 1}), NOW)
    with pytest.raises(EntryRejected, match=r"^revoked_device: "):
        check_device(chain(PHONE, 2)[1], tighter)


def test_only_an_authorized_device_can_be_revoked() -> None:
    """Revoking a stranger 'after seq 3' would otherwise vouch for its first three entries."""
    op = amend(GENESIS, SERVER, T0 + HOUR, revoked={MALLORY.did: 3})
    with refused("unknown_device"):
        next_state(states(GENESIS)[0], op, NOW)


def test_a_device_cannot_be_both_authorized_and_revoked() -> None:
    body = orjson.loads(ADD_PHONE.raw)
    body["revoked"] = {PHONE.did: 0}
    with refused("malformed"):
        decode_op(resign(body))


def test_check_device_needs_the_identity() -> None:
    with pytest.raises(EntryRejected, match=r"^unknown_identity: "):
        check_device(chain(LAPTOP, 1)[0], None)


# -- rules of the chain -----------------------------------------------------


def test_an_operation_must_follow_the_head() -> None:
    state = states(GENESIS, ADD_PHONE)[-1]
    with refused("broken_chain"):
        next_state(state, amend(GENESIS, SERVER, T0 + 2 * HOUR), NOW)


def test_an_operation_must_be_signed_by_a_rotation_key_of_the_state_before() -> None:
    with refused("unauthorized_signer"):
        next_state(states(GENESIS)[0], amend(GENESIS, MALLORY, T0 + HOUR), NOW)


def test_operations_cannot_go_back_in_time_or_into_the_future() -> None:
    state = states(GENESIS, ADD_PHONE)[-1]
    with refused("time_order"):
        next_state(state, amend(ADD_PHONE, SERVER, T0 + HOUR - 1, devices=ADD_PHONE.body["devices"]), NOW)
    with refused("future_timestamp"):
        next_state(states(GENESIS)[0], amend(GENESIS, SERVER, NOW + 10 * 60_000 + 1), NOW)


def test_a_forged_signature_is_refused() -> None:
    body = orjson.loads(ADD_PHONE.raw)
    body["sig"] = b64url(SERVER.sign(b"other bytes"))
    with refused("bad_signature"):
        next_state(states(GENESIS)[0], decode_op(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)), NOW)


def test_rotation_hands_the_rank_to_the_new_key() -> None:
    rotate = amend(GENESIS, SERVER, T0 + HOUR, rotation_keys=[RECOVERY.did, NEW_SERVER.did])
    state = states(GENESIS, rotate)[-1]
    assert state.rank(NEW_SERVER.did) == 1 and state.rank(SERVER.did) is None
    with refused("unauthorized_signer"):
        next_state(state, amend(rotate, SERVER, T0 + 2 * HOUR), NOW)
    after = next_state(state, amend(rotate, NEW_SERVER, T0 + 2 * HOUR, rotation_keys=list(state.rotation_keys),
                                    handles=["alice@example.net"]), NOW)
    assert after.handles == ("alice@example.net",) and after.did == DID


def test_the_state_carries_handles_and_services() -> None:
    state = states(GENESIS)[0]
    assert state.handles == ("alice@example.org",)
    assert state.services == {"home": "https://example.org"}
    assert state.to_json()["did"] == DID


# -- the recovery window ----------------------------------------------------

HELD_AT = T0 + HOUR
SIBLING = amend(GENESIS, SERVER, T0 + HOUR, devices=WITH_TABLET)
FOLLOW_UP = amend(SIBLING, SERVER, T0 + 2 * HOUR, devices=WITH_TABLET, handles=["alice@evil.example"])
RECOVER = amend(GENESIS, RECOVERY, T0 + 5 * HOUR, rotation_keys=[RECOVERY.did, NEW_SERVER.did])


def test_recovery_within_the_window_replaces_the_lower_ranked_operations() -> None:
    log = log_of((GENESIS, T0), (SIBLING, HELD_AT), (FOLLOW_UP, HELD_AT + HOUR))
    result = log.accept(RECOVER, HELD_AT + 71 * HOUR, now_ms=HELD_AT + 71 * HOUR)
    assert result.appended
    assert [held.op.id for held in result.superseded] == [SIBLING.id, FOLLOW_UP.id]
    assert [held.op.id for held in log.ops] == [GENESIS.id, RECOVER.id]
    assert log.state.rotation_keys == (RECOVERY.did, NEW_SERVER.did)
    assert TABLET.did not in log.state.devices and log.state.handles == ("alice@example.org",)


def test_the_window_closes_at_72_hours_after_this_node_first_held_the_operation() -> None:
    log = log_of((GENESIS, T0), (SIBLING, HELD_AT))
    with refused("recovery_window_closed"):
        log.accept(RECOVER, HELD_AT + RECOVERY_WINDOW_MS, now_ms=HELD_AT + RECOVERY_WINDOW_MS)
    assert log.ops[-1].op.id == SIBLING.id
    assert log.accept(RECOVER, HELD_AT + RECOVERY_WINDOW_MS - 1, now_ms=NOW).superseded[0].op == SIBLING


def test_the_window_runs_from_receipt_not_from_the_claimed_timestamp() -> None:
    """A hostile low-ranked key backdates its operation; the window still opens when it arrives."""
    backdated = amend(GENESIS, SERVER, T0 + 1, devices=WITH_TABLET)
    arrived = T0 + 30 * 24 * HOUR
    recover = amend(GENESIS, RECOVERY, arrived, rotation_keys=[RECOVERY.did, NEW_SERVER.did])
    log = log_of((GENESIS, T0), (backdated, arrived))
    assert log.accept(recover, arrived + HOUR, now_ms=arrived + HOUR).superseded[0].op == backdated


def test_equal_rank_cannot_fork() -> None:
    log = log_of((GENESIS, T0), (SIBLING, HELD_AT))
    with refused("fork_rejected"):
        log.accept(amend(GENESIS, SERVER, T0 + 2 * HOUR), HELD_AT + 1, now_ms=NOW)


def test_lower_rank_cannot_fork() -> None:
    by_recovery = amend(GENESIS, RECOVERY, T0 + HOUR, devices=WITH_TABLET)
    log = log_of((GENESIS, T0), (by_recovery, HELD_AT))
    with refused("fork_rejected"):
        log.accept(amend(GENESIS, SERVER, T0 + 2 * HOUR), HELD_AT + 1, now_ms=NOW)
    assert log.ops[-1].op.id == by_recovery.id


def test_a_forged_challenger_is_refused_for_its_signature_not_judged_by_the_fork_rule() -> None:
    body = orjson.loads(RECOVER.raw)
    body["sig"] = b64url(RECOVERY.sign(b"not this"))
    forged = decode_op(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
    log = log_of((GENESIS, T0), (SIBLING, HELD_AT))
    for received in (HELD_AT + 1, HELD_AT + RECOVERY_WINDOW_MS):
        with refused("bad_signature"):
            log.accept(forged, received, now_ms=received)


def test_a_fork_by_a_stranger_is_unauthorized() -> None:
    log = log_of((GENESIS, T0), (SIBLING, HELD_AT))
    with refused("unauthorized_signer"):
        log.accept(amend(GENESIS, MALLORY, T0 + 2 * HOUR), HELD_AT + 1, now_ms=NOW)


def test_duplicates_second_geneses_and_orphans() -> None:
    log = log_of((GENESIS, T0), (SIBLING, HELD_AT))
    result = log.accept(SIBLING, NOW, now_ms=NOW)
    assert result.duplicate and not result.appended
    with refused("wrong_identity"):
        log.accept(sign_op(SERVER, prev=None, ts=T0 + 5, rotation_keys=KEYS, devices={}), NOW, now_ms=NOW)
    with refused("unknown_prev"):
        log.accept(amend(ADD_PHONE, SERVER, T0 + 3 * HOUR, devices=ADD_PHONE.body["devices"]), NOW, now_ms=NOW)


def test_replay_rebuilds_the_same_state() -> None:
    log = log_of((GENESIS, T0), (ADD_PHONE, T0 + HOUR), (REVOKE_PHONE, T0 + 2 * HOUR))
    again = IdentityLog.replay(log.ops, NOW)
    assert again.state == log.state
    assert [s.head for s in again.states] == [GENESIS.id, ADD_PHONE.id, REVOKE_PHONE.id]


# -- any change is refused --------------------------------------------------


@settings(max_examples=200)
@given(st.data())
def test_any_single_byte_change_to_a_signed_op_is_rejected(data: st.DataObject) -> None:
    op = data.draw(st.sampled_from([GENESIS, ADD_PHONE]), label="op")
    before = None if op is GENESIS else states(GENESIS)[0]
    index = data.draw(st.integers(0, len(op.raw) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != op.raw[index]), label="byte")
    with pytest.raises(IdentityOpRejected):
        next_state(before, decode_op(op.raw[:index] + bytes([byte]) + op.raw[index + 1 :]), NOW)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300)
@given(st.sampled_from(sorted(set(ADD_PHONE.body) - {"sig"})), json_values)
def test_any_field_of_any_json_type_is_refused_with_a_code_not_a_crash(field: str, value: Any) -> None:
    body = dict(ADD_PHONE.body)
    body[field] = value
    try:
        op = decode_op(resign(body))
        next_state(states(GENESIS)[0], op, NOW)
    except IdentityOpRejected as exc:
        assert exc.code
