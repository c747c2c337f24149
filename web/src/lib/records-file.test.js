import { describe, expect, it } from 'vitest'
import { cell, parseRecordsFile } from './records-file.js'

describe('records files', () => {
  it('reads cells as the CLI does', () => {
    expect(cell('42')).toBe(42)
    expect(cell('007')).toBe('007')
    expect(cell('3.14')).toBe(3.14)
    expect(cell('1.50')).toBe('1.50')
    expect(cell('true')).toBe(true)
    expect(cell('1e3')).toBe('1e3')
  })
  it('parses CSV with quotes, empty cells and bad rows', () => {
    const text = '\uFEFFid_type,id_number,name,pension_months\nresident_id,370102198506124536,"张, 伟",142\n'
      + 'resident_id,440304199003072312,,96\nresident_id,1\nresident_id,2,,\n'
    const { records, errors, fields } = parseRecordsFile('x.csv', text)
    expect(fields).toEqual(['name', 'pension_months'])
    expect(records).toEqual([
      { line: 2, body: { id_type: 'resident_id', id_number: '370102198506124536', data: { name: '张, 伟', pension_months: 142 } } },
      { line: 3, body: { id_type: 'resident_id', id_number: '440304199003072312', data: { pension_months: 96 } } },
    ])
    expect(errors.map((e) => [e.line, e.code])).toEqual([[4, 'INVALID_LINE'], [5, 'EMPTY_RECORD']])
  })
  it('refuses a bad header', () => {
    expect(() => parseRecordsFile('x.csv', 'number,name\n1,2\n')).toThrow(/header/)
  })
  it('parses JSON arrays (nested or flat) and JSON Lines', () => {
    const array = JSON.stringify([{ id_type: 'uscc', id_number: '9', data: { a: 1 } }, { id_type: 'uscc', id_number: '8', b: 'x' }, 5])
    const a = parseRecordsFile('x.json', array)
    expect(a.records.map((r) => r.body.data)).toEqual([{ a: 1 }, { b: 'x' }])
    expect(a.errors).toHaveLength(1)
    const lines = parseRecordsFile('x.jsonl', '{"id_type":"uscc","id_number":"9","data":{"a":1}}\nnot json\n')
    expect(lines.records).toHaveLength(1)
    expect(lines.errors[0].line).toBe(2)
  })
})
