import type { OrgScope } from './org-scope.ts'

/** Records who (a user of the scope's org) wrote a feedback row of the org's mirror. */
export async function recordFeedbackOwner (db: OrgScope, feedbackId: number, userId: string): Promise<void> {
  await db.query('INSERT INTO feedback_owners (feedback_id, org_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [feedbackId, db.orgId, userId])
}

/** True when the feedback row was written by this user of the scope's org. */
export async function ownsFeedback (db: OrgScope, feedbackId: number, userId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM feedback_owners WHERE feedback_id = $1 AND org_id = $2 AND user_id = $3',
    [feedbackId, db.orgId, userId])
  return rowCount === 1
}
