"""Erasing one planned person, a bounded chunk at a time. Each step is idempotent and runs again
in every chunk before the partition's next batches go, so an interrupted or resumed run finishes
the job: what points at them (relations others hold, their other requests, their export files,
superseded suppression entries) goes before the items it is found through."""

from __future__ import annotations

from typing import Protocol

from functions.export.files import ExportFiles
from functions.requests.lifecycle import RequestStores
from functions.shared.customers import ErasedChunk
from functions.shared.domain import pseudonym
from functions.shared.suppression_reasons import FORGOTTEN


class ErasingStores(RequestStores, Protocol):
    exports: ExportFiles


def erase_chunk(
    customer_id: str, subject_hash: str, request_id: str, max_batches: int, deps: ErasingStores
) -> ErasedChunk:
    # 1. Other reasons (CEASED, OPTED_OUT) are superseded by the FORGOTTEN entries kept already.
    superseded = [
        s for s in deps.suppression.entries_of_subject(subject_hash) if s.reason != FORGOTTEN
    ]
    deps.suppression.remove_all(superseded)
    # 2. Their export files, every version, and their other requests' personal fields.
    for earlier in deps.requests.for_customer(customer_id):
        deps.exports.delete_all_versions(earlier.request_id)
        if earlier.request_id != request_id:
            deps.requests.pseudonymise(earlier.request_id, pseudonym(subject_hash))
    # 3. Relations that point at them from people we keep (found through their own items).
    for relation in deps.customers.relations(customer_id):
        deps.customers.remove_relation(relation.customer_id, relation, customer_id)
    # 4. Their partition, at most `max_batches` batch writes of it, the profile last.
    return deps.customers.erase(customer_id, max_batches)
