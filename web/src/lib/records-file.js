// A provider's records file read in the page, the way `consent-ledger records import` reads it: CSV with the
// header id_type,id_number,<field>,... (cells become numbers or booleans only when they read back exactly,
// empty cells are left out), or JSON: an array (or JSON Lines) of {id_type, id_number, data: {...}} or of
// flat {id_type, id_number, <field>: value, ...}. Answers the request bodies with their line or item
// numbers, and the rows that cannot be sent.
const FIELD = /^[a-z][a-z0-9_]*$/

export function cell(text) {
  if (text === 'true' || text === 'false') return text === 'true'
  if (/^-?(0|[1-9]\d*)$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text)
  if (/^-?(0|[1-9]\d*)\.\d*[1-9]$/.test(text) && String(Number(text)) === text) return Number(text)
  return text
}

/** RFC 4180 rows, each with the line it starts on. */
export function csvRows(text) {
  const rows = []
  let row = []
  let value = ''
  let quoted = false
  let line = 1
  let start = 1
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { value += '"'; i++ } else if (c === '"') quoted = false
      else { if (c === '\n') line++; value += c }
    } else if (c === '"' && value === '') quoted = true
    else if (c === ',') { row.push(value); value = '' }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(value)
      rows.push({ line: start, cells: row })
      row = []
      value = ''
      line++
      start = line
    } else value += c
  }
  if (value !== '' || row.length) { row.push(value); rows.push({ line: start, cells: row }) }
  if (quoted) throw new Error(`line ${start}: a quoted cell is not closed`)
  return rows
}

function parseCsv(text) {
  const rows = csvRows(text.replace(/^\uFEFF/, ''))
  if (!rows.length) throw new Error('the file is empty')
  const header = rows[0].cells.map((h) => h.trim())
  if (header[0] !== 'id_type' || header[1] !== 'id_number' || header.length < 3) {
    throw new Error(`the header must be id_type,id_number,<field>,... (got ${header.join(',')})`)
  }
  const fields = header.slice(2)
  const bad = fields.filter((f) => !FIELD.test(f))
  if (bad.length) throw new Error(`field names must be lower-case snake_case: ${bad.join(', ')}`)
  if (new Set(fields).size !== fields.length) throw new Error('a field appears twice in the header')
  const records = []
  const errors = []
  for (const { line, cells } of rows.slice(1)) {
    if (cells.every((c) => c === '')) continue
    if (cells.length !== header.length) {
      errors.push({ line, code: 'INVALID_LINE', message: `${cells.length} cells; the header has ${header.length}` })
      continue
    }
    const data = {}
    fields.forEach((f, k) => { if (cells[k + 2] !== '') data[f] = cell(cells[k + 2]) })
    if (!Object.keys(data).length) { errors.push({ line, code: 'EMPTY_RECORD', message: 'every field is empty' }); continue }
    records.push({ line, body: { id_type: cells[0], id_number: cells[1], data } })
  }
  return { records, errors, fields }
}

function fromObject(value, line, records, errors) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    errors.push({ line, code: 'INVALID_LINE', message: 'not an object' })
    return
  }
  const { id_type: idType, id_number: idNumber, data, ...flat } = value
  const fields = data !== undefined ? data : flat
  if (typeof idType !== 'string' || typeof idNumber !== 'string') {
    errors.push({ line, code: 'INVALID_LINE', message: 'id_type and id_number must be strings' })
  } else if (!fields || typeof fields !== 'object' || Array.isArray(fields) || !Object.keys(fields).length
    || (data !== undefined && Object.keys(flat).length)) {
    errors.push({ line, code: 'INVALID_LINE', message: 'expected {id_type, id_number, data: {...}} or flat fields' })
  } else {
    records.push({ line, body: { id_type: idType, id_number: idNumber, data: fields } })
  }
}

function parseJson(text) {
  const records = []
  const errors = []
  const trimmed = text.replace(/^\uFEFF/, '').trim()
  if (trimmed.startsWith('[')) {
    let items
    try { items = JSON.parse(trimmed) } catch (e) { throw new Error(`not JSON: ${e.message}`) }
    items.forEach((item, k) => fromObject(item, k + 1, records, errors))
  } else {
    trimmed.split(/\r?\n/).forEach((raw, k) => {
      if (!raw.trim()) return
      try { fromObject(JSON.parse(raw), k + 1, records, errors) } catch (e) {
        errors.push({ line: k + 1, code: 'INVALID_LINE', message: `not JSON: ${e.message}` })
      }
    })
  }
  const fields = [...new Set(records.flatMap((r) => Object.keys(r.body.data)))]
  return { records, errors, fields }
}

/** Parses a records file by its name (.csv, else JSON or JSON Lines); throws when nothing can be read. */
export function parseRecordsFile(name, text) {
  return /\.csv$/i.test(name) ? parseCsv(text) : parseJson(text)
}
