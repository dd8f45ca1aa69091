// Sharing model of the local org: who can read, edit and create which records.
import type { ObjectDef, Schema } from './schema.ts'
import type { Rec, Store } from './store.ts'

export type Profile = 'admin' | 'rep' | 'readonly' | 'integration'

export interface UserInfo {
  id: string
  username: string
  name: string
  profile: Profile
}

export interface Access {
  read: boolean
  edit: boolean
}

const NONE: Access = { read: false, edit: false }
const READ: Access = { read: true, edit: false }
const ALL: Access = { read: true, edit: true }

export function recordAccess (user: UserInfo, rec: Rec, store: Store, depth = 0): Access {
  const def = store.schema.get(rec.type)
  if (!def) return NONE
  if (def.sharing === 'virtual') return READ
  if (user.profile === 'admin' || user.profile === 'integration') return ALL
  if (user.profile === 'readonly') return READ
  switch (def.sharing) {
    case 'publicReadWrite': return ALL
    case 'publicRead':
    case 'setup':
      return READ
    case 'private':
      return rec.f.OwnerId === user.id ? ALL : NONE
    case 'parent': {
      if (rec.f.OwnerId !== undefined && rec.f.OwnerId === user.id && def.name !== 'Contact') return ALL
      const parentId = def.parentField ? rec.f[def.parentField] : null
      if (typeof parentId !== 'string' || depth > 4) {
        return rec.f.OwnerId === user.id ? ALL : NONE
      }
      const parent = store.get(parentId)
      if (!parent) return NONE
      return recordAccess(user, parent, store, depth + 1)
    }
  }
  return NONE
}

export function canCreate (user: UserInfo, def: ObjectDef): boolean {
  if (!def.createable) return false
  if (user.profile === 'admin' || user.profile === 'integration') return true
  if (user.profile === 'readonly') return false
  return def.sharing === 'private' || def.sharing === 'parent' || def.sharing === 'publicReadWrite'
}

export function canDelete (user: UserInfo, def: ObjectDef): boolean {
  return canCreate(user, def) && def.deletable
}

export function seesAll (user: UserInfo): boolean {
  return user.profile !== 'rep'
}

export function maxAccessLevel (user: UserInfo, rec: Rec, store: Store): { access: Access; level: string } {
  const a = recordAccess(user, rec, store)
  const def: ObjectDef | undefined = store.schema.get(rec.type)
  if (!a.read) return { access: a, level: 'None' }
  if (!a.edit) return { access: a, level: 'Read' }
  if (user.profile === 'admin' || user.profile === 'integration') return { access: a, level: 'All' }
  if (def?.sharing === 'private' && rec.f.OwnerId === user.id) return { access: a, level: 'All' }
  return { access: a, level: 'Edit' }
}

export type { Schema }
