import t from 'tap'
import { likeLiteral, quoteLiteral, soql, toId18 } from '../../src/salesforce/soql.ts'

t.test('string literals escape the whole SOQL escape table', async (t) => {
  t.equal(quoteLiteral('plain'), "'plain'")
  t.equal(quoteLiteral("O'Brien"), "'O\\'Brien'")
  t.equal(quoteLiteral('a\\b'), "'a\\\\b'")
  t.equal(quoteLiteral('say "hi"'), "'say \\\"hi\\\"'")
  t.equal(quoteLiteral('1\n2\r3\t4\b5\f6'), "'1\\n2\\r3\\t4\\b5\\f6'")
  t.equal(quoteLiteral("\\' OR Name != '"), "'\\\\\\' OR Name != \\''", 'an escaped quote cannot close the literal')
})

t.test('LIKE patterns match their text literally', async (t) => {
  t.equal(likeLiteral('50%_off').text, "'%50\\%\\_off%'")
  t.equal(likeLiteral("it's", 'startsWith').text, "'it\\'s%'")
  t.equal(likeLiteral('x', 'exact').text, "'x'")
})

t.test('interpolated values are literals, never query text', async (t) => {
  const id = '006Lo000000003gIAA'
  t.equal(soql`SELECT Id FROM Opportunity WHERE Id = ${id}`, "SELECT Id FROM Opportunity WHERE Id = '006Lo000000003gIAA'")
  t.equal(soql`SELECT Id FROM Account WHERE Id IN ${['001a', "x' OR '1'='1"]}`, "SELECT Id FROM Account WHERE Id IN ('001a', 'x\\' OR \\'1\\'=\\'1')")
  t.equal(soql`SELECT Id FROM Account WHERE AnnualRevenue > ${1000} AND IsDeleted = ${false} AND OwnerId = ${null}`,
    'SELECT Id FROM Account WHERE AnnualRevenue > 1000 AND IsDeleted = false AND OwnerId = null')
  t.equal(soql`SELECT Id FROM Account WHERE CreatedDate > ${new Date('2026-01-02T03:04:05.678Z')}`, 'SELECT Id FROM Account WHERE CreatedDate > 2026-01-02T03:04:05Z')
  t.throws(() => soql`SELECT Id FROM Account WHERE Id IN ${[]}`, { message: /must not be empty/ })
  t.throws(() => soql`SELECT Id FROM Account WHERE AnnualRevenue > ${Number.NaN}`, { message: /finite/ })
})

t.test('ids: 15 characters get their checksum, a wrong checksum is refused naming the field', async (t) => {
  t.equal(toId18('006Lo000000003g'), '006Lo000000003gIAA')
  t.equal(toId18('006Lo000000003giaa'), '006Lo000000003gIAA', 'the suffix is case-insensitive')
  let refused: unknown
  try { toId18('006Lo000000003gIAB', 'opportunityId') } catch (err) { refused = err }
  t.match(refused, { errorCode: 'INVALID_REQUEST', fields: ['opportunityId'] })
  t.throws(() => toId18("006' OR '1'='1"), /not a valid Salesforce id/)
})
