import type { ActionContext } from './define.ts'
import { runOnce, type Claim } from '../postgres/idempotency.ts'

/**
 * For write actions: runs `work` once per caller and idempotency key (default: the AppLink
 * request id, which a retry of the same invocation keeps) and says whether the answer is a replay.
 * The work gets the claim: the key as the org sees it, whether an earlier attempt may have
 * written, and `sending()` to call just before an org write.
 */
export async function idempotent<T extends object> (
  ctx: Pick<ActionContext, 'caller' | 'app'>,
  operationId: string,
  input: { idempotencyKey?: string | undefined },
  work: (claim: Claim) => Promise<T>
): Promise<T & { replayed: boolean }> {
  const { idempotencyKey, ...request } = input
  const { caller, app } = ctx
  const { result, replayed } = await runOnce(app.idempotency,
    { orgId: caller.org.id, userId: caller.user.id, operationId, key: idempotencyKey ?? caller.requestId, request },
    {
      retentionMs: app.config.IDEMPOTENCY_RETENTION_MS,
      waitMs: app.config.IDEMPOTENCY_WAIT_MS,
      leaseMs: app.config.IDEMPOTENCY_LEASE_MS
    },
    work)
  return { ...result, replayed }
}
