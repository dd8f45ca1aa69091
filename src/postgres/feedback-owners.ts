import type pg from 'pg'

export interface Owner { orgId: string, userId: string }

/** Records who wrote a feedback row. */
export async function recordFeedbackOwner (pool: pg.Pool, feedbackId: number, owner: Owner): Promise<void> {
  await pool.query('INSERT INTO feedback_owners (feedback_id, org_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [feedbackId, owner.orgId, owner.userId])
}

/** True when the feedback row was written by this user of this org. */
export async function ownsFeedback (pool: pg.Pool, feedbackId: number, owner: Owner): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM feedback_owners WHERE feedback_id = $1 AND org_id = $2 AND user_id = $3', [feedbackId, owner.orgId, owner.userId])
  return rowCount === 1
}
