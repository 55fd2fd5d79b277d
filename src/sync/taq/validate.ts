/**
 * The validation gate of a TAQ partition, run on the fsynced temporary Parquet file before it is
 * committed (a failure moves it to quarantine/ and records QuarantineAdded naming the rule):
 * every symbol traded or quoted is in the day's master file; the key is not NULL and unique;
 * times lie within the day's session (early closes included); prices > 0 and sizes > 0 after
 * cleaning; a bar grid of exactly symbols × session minutes. It reads the day's `acc_symbols` and
 * `acc_orphans` (day-batches.ts).
 */
import { quoteLiteral, type Duck } from '../../engine/index.js';
import type { ValidationProblem } from '../../store/index.js';
import type { TaqDataset } from './aggregates.js';
import { NS_PER_MINUTE, type SessionWindow } from './rules.js';

interface Check {
  readonly rule: string;
  /** SELECT returning one row with `n` (violations) and optionally `example`. */
  readonly sql: string;
  readonly message: (n: number, example: unknown) => string;
}

const time = (day: string, ns: number): string => `(DATE '${day}' + to_microseconds(${Math.floor(ns / 1000)}))`;

function checksFor(d: TaqDataset, f: string, day: string, w: SessionWindow): Check[] {
  const file = `read_parquet(${quoteLiteral(f)})`;
  const checks: Check[] = [
    {
      rule: 'symbol_not_in_master',
      sql: `SELECT count(DISTINCT symbol) AS n, min(symbol) AS example FROM acc_orphans`,
      message: (n, ex) => `${n} symbol(s) traded or quoted on ${day} are missing from the master file (e.g. ${ex})`,
    },
    { rule: 'date', sql: `SELECT count(*) AS n FROM ${file} WHERE date IS DISTINCT FROM DATE '${day}'`, message: (n) => `${n} row(s) dated other than ${day}` },
  ];
  if (d.key.length > 0) {
    const k = d.key.join(', ');
    checks.push({
      rule: 'key',
      sql: `SELECT count(*) - count(DISTINCT (${k})) + count(*) FILTER (WHERE ${d.key.map((c) => `${c} IS NULL`).join(' OR ')}) AS n FROM ${file}`,
      message: (n) => `${n} row(s) with a NULL or repeated key (${k})`,
    });
  }
  if (d.name === 'taq_minute_bars') {
    const minutes = (w.closeNs - w.openNs) / NS_PER_MINUTE;
    checks.push(
      {
        rule: 'session_time',
        sql: `SELECT count(*) AS n, min(minute)::VARCHAR AS example FROM ${file} WHERE minute < ${time(day, w.openNs)} OR minute > ${time(day, w.closeNs - NS_PER_MINUTE)}`,
        message: (n, ex) => `${n} bar(s) outside the session (e.g. ${ex})`,
      },
      {
        rule: 'bar_grid',
        sql: `SELECT abs(count(*) - ${minutes} * (SELECT count(DISTINCT symbol) FROM acc_symbols)) AS n FROM ${file}`,
        message: () => `the bars are not one per symbol and session minute (${minutes} minutes)`,
      },
      {
        rule: 'price_size',
        sql: `SELECT count(*) AS n FROM ${file} WHERE low <= 0 OR high < low OR volume < 0 OR (trades > 0) <> (volume > 0)`,
        message: (n) => `${n} bar(s) with a price ≤ 0, high < low, or volume inconsistent with trades`,
      },
    );
  }
  if (d.name === 'taq_daily_rv') {
    checks.push({ rule: 'rv_range', sql: `SELECT count(*) AS n FROM ${file} WHERE rv_5m < 0 OR rv_30m < 0`, message: (n) => `${n} negative realized variance(s)` });
  }
  if (d.name === 'taq_spreads') {
    checks.push({
      rule: 'spread_range',
      sql: `SELECT count(*) AS n FROM ${file} WHERE quoted_tw <= 0 OR effective < 0 OR spread_trades > trades`,
      message: (n) => `${n} symbol(s) with a quoted spread ≤ 0, a negative effective spread, or more spread trades than trades`,
    });
  }
  if (d.name === 'taq_ticks') {
    checks.push(
      {
        rule: 'session_time',
        sql: `SELECT count(*) AS n, min(ts)::VARCHAR AS example FROM ${file} WHERE ts < ${time(day, w.quotesFromNs)} OR ts >= ${time(day, w.closeNs)} OR (kind = 'trade' AND ts < ${time(day, w.openNs)})`,
        message: (n, ex) => `${n} tick(s) outside the session (e.g. ${ex})`,
      },
      { rule: 'price_size', sql: `SELECT count(*) AS n FROM ${file} WHERE kind = 'trade' AND (price <= 0 OR size <= 0)`, message: (n) => `${n} trade(s) with a price or size ≤ 0` },
    );
  }
  return checks;
}

/** The first failing check of a partition about to be committed, or null. */
export async function validateTaqPartition(duck: Duck, d: TaqDataset, file: string, rows: number, day: string, w: SessionWindow, _symbols: number): Promise<ValidationProblem | null> {
  void rows;
  for (const c of checksFor(d, file, day, w)) {
    const [r] = (await duck.all(c.sql)).rows;
    const n = Number(r?.n ?? 0);
    if (n > 0) return { rule: c.rule, message: c.message(n, r?.example) };
  }
  return null;
}
