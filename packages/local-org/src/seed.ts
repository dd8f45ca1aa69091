// Deterministic B2B data for the local org: users, accounts, contacts, products, price books,
// opportunities with line items, quotes, cases and product feedback.
import type { Profile, UserInfo } from './access.ts'
import { fmtDate, fmtDateTime } from './dates.ts'
import type { OrgCore } from './org.ts'
import { AUTONUMBER, STAGE_PROBABILITY } from './schema.ts'
import type { ObjectDef } from './schema.ts'
import type { Rec, Value } from './store.ts'

export type Dataset = 'small' | 'large'

export interface SeedUser { username: string; first: string; last: string; profile: Profile; profileName: string }

export const SEED_USERS: SeedUser[] = [
  { username: 'admin@acme.local', first: 'Avery', last: 'Admin', profile: 'admin', profileName: 'System Administrator' },
  { username: 'rep1@acme.local', first: 'Robin', last: 'Reyes', profile: 'rep', profileName: 'Standard User' },
  { username: 'rep2@acme.local', first: 'Sam', last: 'Sato', profile: 'rep', profileName: 'Standard User' },
  { username: 'rep3@acme.local', first: 'Taylor', last: 'Tran', profile: 'rep', profileName: 'Standard User' },
  { username: 'readonly@acme.local', first: 'Riley', last: 'Reader', profile: 'readonly', profileName: 'Read Only' },
  { username: 'integration@acme.local', first: 'Integration', last: 'User', profile: 'integration', profileName: 'Integration User' }
]

/**
 * The seed's users as one org has them: the domain swapped (another customer's org) and, in a
 * sandbox, the sandbox name appended, as Salesforce renames a sandbox copy's users.
 */
export function seedUsers (domain = 'acme.local', sandbox?: string): SeedUser[] {
  return SEED_USERS.map((u) => {
    const username = `${u.username.split('@')[0] ?? ''}@${domain}${sandbox === undefined ? '' : `.${sandbox}`}`
    return { ...u, username }
  })
}

/** mulberry32: small, fast, deterministic. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const DAY = 86_400_000
const PREFIX = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Wonka', 'Hooli', 'Vandelay', 'Soylent', 'Tyrell', 'Cyberdyne', 'Aperture', 'Gringotts', 'Oscorp', 'Massive', 'Blue Sky', 'Red Rock', 'Silver Lake', 'Northwind', 'Contoso', 'Fabrikam', 'Adventure', 'Litware', 'Proseware', 'Tailspin', 'Woodgrove', 'Lucerne', 'Alpine', 'Coho']
const CORE = ['Robotics', 'Foods', 'Logistics', 'Health', 'Energy', 'Systems', 'Analytics', 'Textiles', 'Pharma', 'Motors', 'Media', 'Retail', 'Capital', 'Networks', 'Materials', 'Labs', 'Devices', 'Outfitters', 'Aerospace', 'Software']
const SUFFIX = ['Inc.', 'LLC', 'Ltd', 'GmbH', 'Group', 'Corp']
const CITIES: Array<[string, string]> = [['USA', 'San Francisco'], ['USA', 'New York'], ['USA', 'Chicago'], ['USA', 'Austin'], ['Canada', 'Toronto'], ['United Kingdom', 'London'], ['Germany', 'Berlin'], ['France', 'Paris'], ['Japan', 'Tokyo'], ['Australia', 'Sydney'], ['Brazil', 'São Paulo'], ['India', 'Bangalore']]
const FIRST = ['Ada', 'Ben', 'Cleo', 'Dev', 'Elena', 'Farid', 'Grace', 'Hugo', 'Iris', 'Jon', 'Kira', 'Luis', 'Mona', 'Nils', 'Olga', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tara', 'Uma', 'Victor', 'Wen', 'Xavier', 'Yara', 'Zane']
const LAST = ['Anders', 'Brooks', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Huang', 'Ibrahim', 'Jensen', 'Kowalski', 'Lopez', 'Müller', "O'Brien", 'Patel', 'Quispe', 'Rossi', 'Silva', 'Tanaka', 'Ueda', 'Varga', 'Weber', 'Xu', 'Yilmaz', 'Zhou']
const FAMILIES = ['Hardware', 'Software', 'Services'] as const
const PRODUCTS: Record<string, string[]> = {
  Hardware: ['Edge Gateway', 'Sensor Kit', 'Rack Server', 'Storage Array', 'Network Switch', 'Rugged Tablet', 'Barcode Scanner', 'Smart Camera', 'Thermal Printer', 'Docking Station'],
  Software: ['Analytics Suite', 'Fleet Manager', 'Inventory Cloud', 'Security Shield', 'Workflow Studio', 'Data Connector', 'Reporting Pack', 'Mobile SDK', 'Identity Hub', 'AI Assistant'],
  Services: ['Installation', 'Premium Support', 'Training Day', 'Health Check', 'Data Migration', 'Custom Integration', 'Managed Service', 'Onsite Engineer', 'Architecture Review', 'Extended Warranty']
}
const CODE_PREFIX: Record<string, string> = { Hardware: 'HW', Software: 'SW', Services: 'SV' }
const PRICE: Record<string, [number, number]> = { Hardware: [200, 9000], Software: [500, 25000], Services: [150, 5000] }
const STAGES = ['Prospecting', 'Qualification', 'Needs Analysis', 'Proposal', 'Negotiation', 'Closed Won', 'Closed Lost']
const CASE_SUBJECTS = ['Cannot log in', 'Device offline', 'Invoice question', 'Feature request', 'Slow dashboard', 'Shipment delayed', 'Sync errors', 'License renewal', 'Broken unit on arrival', 'API rate limit']

/** Accounts of the `large` data set unless `accounts` says otherwise. */
export const LARGE_ACCOUNTS = 1_000_000

export interface SeedResult { users: UserInfo[]; counts: Record<string, number> }

export interface SeedOptions {
  seed: number
  dataset: Dataset
  /**
   * Accounts of the `large` data set (default LARGE_ACCOUNTS); the records under them and the
   * product feedback scale with it. The `small` data set has a fixed size.
   */
  accounts?: number
  now?: number
  progress?: (done: number, total: number) => void
  /** The org's users (default SEED_USERS). */
  users?: SeedUser[]
  /**
   * A sandbox copy's name: the same records (and ids) as production, with values changed so a copy's
   * data read in place of production's shows: account names suffixed, prices and amounts 10 % higher.
   */
  sandbox?: string
}

/** Price or amount as a sandbox copy holds it (10 % higher), unchanged otherwise. */
const variantAmount = (amount: number, sandbox: string | undefined): number =>
  sandbox === undefined ? amount : Math.round(amount * 110) / 100

export function seedOrg (org: OrgCore, opts: SeedOptions): SeedResult {
  const rnd = prng(opts.seed)
  const now = opts.now ?? Date.now()
  const today = Math.floor(now / DAY) * DAY
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1))
  const counts: Record<string, number> = {}

  let adminId = ''
  const mk = (type: string, fields: Record<string, Value>, created?: number, ownerId?: string): Rec => {
    const def = org.schema.get(type) as ObjectDef
    // A copy of the type's blank record: one step, where adding the fields one by one took a tenth of the seed.
    const f: Record<string, Value> = { ...org.blank(def) }
    const c = created ?? now - int(30, 700) * DAY - int(0, DAY - 1)
    // Last changed up to 40 days after creation, and at least a minute ago: a change that would come
    // later is folded back between creation and then, not stopped at one instant (which put a third of
    // a million records at one SystemModstamp, each re-read by every poll of Connect's window).
    const latest = now - 60_000
    const m = c + int(0, 40) * DAY + int(0, DAY - 1)
    const by = ownerId ?? adminId
    const modified = fmtDateTime(m <= latest ? m : latest <= c ? c : c + (m - c) % (latest - c))
    f.Id = org.ids.next(def.keyPrefix)
    f.IsDeleted = false
    f.CreatedDate = fmtDateTime(c)
    f.CreatedById = by || null
    f.LastModifiedDate = modified
    f.LastModifiedById = by || null
    f.SystemModstamp = modified
    if (def.fieldMap.has('ownerid')) f.OwnerId = by || null
    const auto = AUTONUMBER[def.name]
    if (auto) f[auto.field] = auto.format(org.nextAutonumber(def.name))
    Object.assign(f, fields)
    const rec: Rec = { type: def.name, f }
    org.store.insert(rec)
    counts[def.name] = (counts[def.name] ?? 0) + 1
    return rec
  }

  // Profiles and users
  const profileIds = new Map<string, string>()
  for (const name of ['System Administrator', 'Standard User', 'Read Only', 'Integration User']) {
    profileIds.set(name, mk('Profile', { Name: name }, now - 900 * DAY).f.Id as string)
  }
  const users: UserInfo[] = []
  for (const u of opts.users ?? SEED_USERS) {
    const rec = mk('User', {
      Username: u.username,
      FirstName: u.first,
      LastName: u.last,
      Name: `${u.first} ${u.last}`,
      Alias: (u.first.slice(0, 1) + u.last.slice(0, 4)).toLowerCase(),
      Email: u.username,
      IsActive: true,
      ProfileId: profileIds.get(u.profileName) ?? null,
      UserType: 'Standard'
    }, now - 800 * DAY)
    if (!adminId) {
      adminId = rec.f.Id as string
      for (const r of org.store.all('Profile')) { r.f.CreatedById = adminId; r.f.LastModifiedById = adminId }
      rec.f.CreatedById = adminId
      rec.f.LastModifiedById = adminId
    }
    const info: UserInfo = { id: rec.f.Id as string, username: u.username, name: `${u.first} ${u.last}`, profile: u.profile }
    users.push(info)
    org.addUser(info)
  }
  const reps = users.filter(u => u.profile === 'rep')

  // Catalogue
  const std = mk('Pricebook2', { Name: 'Standard Price Book', IsActive: true, IsStandard: true, Description: 'Standard price book' }, now - 800 * DAY)
  mk('Pricebook2', { Name: 'Partner Price Book', IsActive: false, IsStandard: false, Description: 'Partner prices (inactive)' }, now - 700 * DAY)
  const entries: Rec[] = []
  const large = opts.dataset === 'large'
  const nAccounts = large ? opts.accounts ?? LARGE_ACCOUNTS : 300
  // The large catalogue: one product per 100 accounts (10,000 at a million), models of the 30 names.
  const perFamily = large ? Math.max(10, Math.ceil(nAccounts / 300)) : 10
  for (const family of FAMILIES) {
    const models = PRODUCTS[family] ?? []
    const names = Array.from({ length: perFamily }, (_, i) =>
      i < models.length ? models[i] as string : `${models[i % models.length] ?? family} ${Math.floor(i / models.length) + 1}`)
    names.forEach((name, i) => {
      const code = `${CODE_PREFIX[family] ?? 'XX'}-${String(i + 1).padStart(4, '0')}`
      const p = mk('Product2', {
        Name: name,
        ProductCode: code,
        Family: family,
        IsActive: i !== names.length - 1 || family !== 'Hardware',
        Description: `${name} (${family.toLowerCase()})`,
        External_Id__c: code
      }, now - 750 * DAY)
      const [lo, hi] = PRICE[family] ?? [100, 1000]
      const price = variantAmount(Math.round((lo + rnd() * (hi - lo)) / 10) * 10, opts.sandbox)
      entries.push(mk('PricebookEntry', {
        Name: name,
        Pricebook2Id: std.f.Id as string,
        Product2Id: p.f.Id as string,
        UnitPrice: price,
        IsActive: p.f.IsActive as boolean,
        UseStandardPrice: false,
        ProductCode: code
      }, now - 750 * DAY))
    })
  }
  const activeEntries = entries.filter(e => e.f.IsActive === true)

  // Accounts and everything under them. The large set is skewed as a real book of business is:
  // most accounts have no deal or one, one in a hundred a few dozen, one in two thousand hundreds
  // (per account on average: 1.1 opportunities, 2.2 line items, 0.6 cases, 0.25 contacts).
  const opportunitiesOf = (): number => {
    if (!large) return int(0, 3)
    const r = rnd()
    return r < 0.0005 ? int(200, 600) : r < 0.01 ? int(10, 80) : int(0, 1)
  }
  const combos = PREFIX.length * CORE.length * SUFFIX.length
  const step = 3023 // co-prime with combos: walks every combination once
  for (let i = 0; i < nAccounts; i++) {
    if (opts.progress && i % 2500 === 0) opts.progress(i, nAccounts)
    const owner = i < (large ? 500 : 12) ? users[0] as UserInfo : reps[i % reps.length] as UserInfo
    const k = (i * step) % combos
    const base = `${PREFIX[k % PREFIX.length]} ${CORE[Math.floor(k / PREFIX.length) % CORE.length]} ${SUFFIX[Math.floor(k / (PREFIX.length * CORE.length)) % SUFFIX.length]}`
    const name = i < combos ? base : `${base} ${Math.floor(i / combos) + 1}`
    const [country, city] = pick(CITIES)
    const created = now - int(60, 720) * DAY - int(0, DAY - 1)
    const regions = ['AMER', 'EMEA', 'APAC', 'LATAM'].filter(() => rnd() < 0.35)
    const acc = mk('Account', {
      Name: opts.sandbox === undefined ? name : `${name} (${opts.sandbox})`,
      Type: pick(['Customer', 'Customer', 'Prospect', 'Partner']),
      Industry: pick(['Technology', 'Manufacturing', 'Healthcare', 'Retail', 'Finance']),
      BillingCountry: country,
      BillingCity: city,
      Phone: `+1 555 ${String(1000 + (i % 9000)).padStart(4, '0')}`,
      Website: `https://www.${name.toLowerCase().replace(/[^a-z0-9]+/g, '')}.example`,
      AnnualRevenue: int(1, 500) * 100_000,
      NumberOfEmployees: int(5, 20_000),
      Regions__c: regions.length ? regions.join(';') : null,
      Health_Score__c: rnd() < 0.7 ? int(10, 99) : null,
      Health_Scored_At__c: null,
      External_Id__c: `ACC-${String(i + 1).padStart(6, '0')}`
    }, created, owner.id)
    if (acc.f.Health_Score__c !== null) acc.f.Health_Scored_At__c = fmtDateTime(now - int(1, 90) * DAY)
    const accId = acc.f.Id as string

    const contactIds: string[] = []
    for (let c = large ? Number(rnd() < 0.25) : int(1, 3); c > 0; c--) {
      const first = pick(FIRST)
      const last = pick(LAST)
      contactIds.push(mk('Contact', {
        AccountId: accId,
        FirstName: first,
        LastName: last,
        Name: `${first} ${last}`,
        Title: pick(['CEO', 'CTO', 'Buyer', 'VP Sales', 'IT Manager', 'Procurement Lead']),
        Email: `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '') + `${i}@${name.toLowerCase().replace(/[^a-z0-9]+/g, '')}.example`,
        Phone: `+1 555 ${String(int(1000, 9999))}`
      }, created + int(0, 30) * DAY, owner.id).f.Id as string)
    }

    for (let o = opportunitiesOf(); o > 0; o--) {
      const closeOffset = int(-365, 180)
      const closeDate = today + closeOffset * DAY
      let stage = closeOffset < 0 ? pick(['Closed Won', 'Closed Won', 'Closed Lost', 'Negotiation']) : pick(STAGES.slice(0, 5))
      if (closeOffset >= 0 && rnd() < 0.05) stage = 'Closed Won'
      const oppCreated = Math.min(now - DAY, Math.max(created, closeDate - int(30, 200) * DAY))
      const opp = mk('Opportunity', {
        Name: `${name} - ${pick(['Expansion', 'Renewal', 'New Business', 'Upgrade', 'Pilot'])}`,
        AccountId: accId,
        StageName: stage,
        CloseDate: fmtDate(closeDate),
        Probability: STAGE_PROBABILITY[stage] ?? 0,
        IsClosed: stage.startsWith('Closed'),
        IsWon: stage === 'Closed Won',
        Amount: null,
        Pricebook2Id: null,
        HasOpportunityLineItem: false,
        Description: null
      }, oppCreated, owner.id)
      const oppId = opp.f.Id as string
      const nItems = rnd() < 0.2 ? 0 : large ? int(1, 4) : int(1, 5)
      let amount = 0
      const lines: Rec[] = []
      for (let l = 0; l < nItems; l++) {
        const pbe = pick(activeEntries)
        const qty = int(1, 20)
        const unit = pbe.f.UnitPrice as number
        const discount = rnd() < 0.3 ? pick([5, 10, 15]) : null
        const total = Math.round(qty * unit * (1 - (discount ?? 0) / 100) * 100) / 100
        amount += total
        lines.push(mk('OpportunityLineItem', {
          OpportunityId: oppId,
          PricebookEntryId: pbe.f.Id as string,
          Product2Id: pbe.f.Product2Id as string,
          Name: `${opp.f.Name as string} ${pbe.f.Name as string}`,
          ProductCode: pbe.f.ProductCode as string,
          Quantity: qty,
          UnitPrice: unit,
          ListPrice: unit,
          Discount: discount,
          TotalPrice: total,
          Description: null,
          ServiceDate: null
        }, oppCreated, owner.id))
      }
      if (nItems > 0) {
        opp.f.Amount = Math.round(amount * 100) / 100
        opp.f.Pricebook2Id = std.f.Id as string
        opp.f.HasOpportunityLineItem = true
      } else if (rnd() < 0.6) {
        opp.f.Amount = variantAmount(int(5, 500) * 1000, opts.sandbox)
      }
      if (nItems > 0 && !large && rnd() < 0.15) {
        const q = mk('Quote', {
          Name: `Q - ${opp.f.Name as string}`,
          OpportunityId: oppId,
          Pricebook2Id: std.f.Id as string,
          Status: pick(['Draft', 'Presented', 'Accepted']),
          ExpirationDate: fmtDate(today + int(5, 60) * DAY),
          Description: null,
          Discount: null
        }, oppCreated + DAY, owner.id)
        let subtotal = 0
        let total = 0
        for (const li of lines) {
          const sub = Math.round((li.f.Quantity as number) * (li.f.UnitPrice as number) * 100) / 100
          const tp = Math.round(sub * (1 - Number(li.f.Discount ?? 0) / 100) * 100) / 100
          subtotal += sub
          total += tp
          mk('QuoteLineItem', {
            QuoteId: q.f.Id as string,
            PricebookEntryId: li.f.PricebookEntryId ?? null,
            Product2Id: li.f.Product2Id ?? null,
            Quantity: li.f.Quantity ?? null,
            UnitPrice: li.f.UnitPrice ?? null,
            ListPrice: li.f.ListPrice ?? null,
            Discount: li.f.Discount ?? null,
            Subtotal: sub,
            TotalPrice: tp,
            Description: null
          }, oppCreated + DAY, owner.id)
        }
        Object.assign(q.f, {
          Subtotal: round2(subtotal),
          TotalPrice: round2(total),
          GrandTotal: round2(total),
          LineItemCount: lines.length
        })
      }
    }

    for (let c = rnd() < (large ? 0.4 : 0.5) ? int(1, 2) : 0; c > 0; c--) {
      const status = pick(['New', 'Working', 'Escalated', 'Closed', 'Closed'])
      mk('Case', {
        AccountId: accId,
        ContactId: contactIds.length ? pick(contactIds) : null,
        Subject: pick(CASE_SUBJECTS),
        Description: null,
        Status: status,
        Priority: pick(['High', 'Medium', 'Medium', 'Low']),
        Origin: pick(['Phone', 'Email', 'Web']),
        IsClosed: status === 'Closed'
      }, now - int(1, 300) * DAY - int(0, DAY - 1), owner.id)
    }
  }

  const nFeedback = large ? Math.ceil(nAccounts / 10) : 60
  const products = [...org.store.all('Product2')]
  const accounts = [...org.store.all('Account')]
  for (let i = 0; i < nFeedback; i++) {
    const author = pick(users)
    mk('Product_Feedback__c', {
      Product__c: pick(products).f.Id as string,
      Account__c: pick(accounts).f.Id as string,
      Rating__c: int(1, 5),
      Comment__c: pick(['Works great', 'Too expensive', 'Setup was hard', 'Support was quick', 'Would buy again', 'Missing features']),
      External_Id__c: `PF-SEED-${String(i + 1).padStart(6, '0')}`
    }, now - int(1, 200) * DAY, author.id)
  }
  opts.progress?.(nAccounts, nAccounts)
  return { users, counts }
}

function round2 (n: number): number {
  return Math.round(n * 100) / 100
}
