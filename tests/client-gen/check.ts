// A phone's sync code against the types generated from AnXun's OpenAPI document (openapi-typescript).
// tests/api/test_client_generation.py generates api.d.ts beside a copy of this file and runs tsc:
// it must compile, and each @ts-expect-error line must really be an error (else tsc fails too).
import type { components } from "./api";

type Schemas = components["schemas"];
type Change = Schemas["PushChange"];

const inspection: Change = {
  entity: "inspection", op: "create", id: "0b7f3f8e-3c1a-4a49-8a63-3b7a1c1e2d10",
  recorded_at: "2026-11-22T08:40:00+08:00",
  data: {
    enterprise_id: "516b7544-9a45-4e21-93fc-2d54d85f8b80", kind: "routine",
    checklist: { code: "fireworks-retail", version: 1 }, started_at: "2026-11-22T08:00:00+08:00",
    location: { lon: 107.8, lat: 30.7, crs: "gcj02", accuracy_m: 15 },
    answers: [{ item: "FR-01", result: "fail", note: "", photos: ["c".repeat(64)] }],
  },
};
const submit: Change = {
  entity: "hazard", op: "transition", id: "a80a4ef5-ab9d-56a5-9e86-930dda969577", base_version: 3,
  data: { action: "submit", photos: ["c".repeat(64)], note: "已整改" },
};
const patrol: Change = {
  entity: "patrol", op: "create", id: "5d1e0c52-7f43-4c43-9d8e-6a0c4c3f2b11",
  data: {
    grid_id: "eb8af33e-174f-4b90-8153-3723340fb151", started_at: "2026-11-22T08:00:00+08:00",
    track: { crs: "wgs84", coordinates: [[107.8, 30.7], [107.81, 30.71]] },
    visits: [{ enterprise_id: "516b7544-9a45-4e21-93fc-2d54d85f8b80", at: "2026-11-22T08:30:00+08:00",
               outcome: "normal" }],
  },
};
const accept: Change = { entity: "task", op: "transition", id: "9c2f", data: { action: "accept" } };

export const batch: Schemas["BatchIn"] = {
  batch_id: "6f1c", sent_at: "2026-11-22T18:02:11+08:00", changes: [inspection, submit, patrol, accept],
};

// @ts-expect-error a hazard has no such action
export const wrongAction: Change = { entity: "hazard", op: "transition", id: "x", data: { action: "explode" } };
// @ts-expect-error a patrol is never transitioned
export const wrongOp: Change = { entity: "patrol", op: "transition", id: "x", data: { action: "accept" } };
// @ts-expect-error an inspection create's data needs its checklist and answers
export const wrongData: Change = { entity: "inspection", op: "create", id: "x", data: { kind: "routine" } };

export function rebase(answer: Schemas["PushOut"]): string[] {
  const retry: string[] = [];
  for (const result of answer.results) {
    if (result.status === "rejected") {
      const fields: (string | null | undefined)[] = result.errors.map((e) => e.field);
      if (result.retryable && result.id !== null) retry.push(result.id);
      void fields;
    } else if (result.status === "conflict") {
      const version: number = result.version;
      void version;
    } else {
      const version: number = result.version;
      // @ts-expect-error only rejected results carry errors
      void result.errors;
      void version;
    }
  }
  return [...retry, ...answer.missing_photos];
}

type Geometry = Schemas["Polygon"] | Schemas["MultiPolygon"];

export function applyPage(page: Schemas["PullOut"], copy: Map<string, unknown>): string {
  for (const change of page.changes) {
    const key = `${change.entity}/${change.id}`;
    if (change.op === "delete") {
      // @ts-expect-error a delete carries no data
      void change.data;
      copy.delete(key);
    } else if (change.entity === "grid") {
      const geometry: Geometry | undefined = change.data.geometry;
      const rings: number[][][] | number[][][][] | undefined = geometry?.coordinates;
      copy.set(key, rings);
    } else if (change.entity === "hazard") {
      const overdue: boolean | undefined = change.data.overdue;
      // @ts-expect-error a hazard's level is a string, not a number
      const level: number | undefined = change.data.level;
      copy.set(key, [overdue, level]);
    } else {
      copy.set(key, change.data);
    }
  }
  return page.has_more ? page.cursor : "";
}
