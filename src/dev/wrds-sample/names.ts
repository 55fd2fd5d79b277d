/**
 * Made-up but plausible identifiers: tickers, company names, CUSIPs, industries.
 */
import type { Rng } from './prng.js';

const FIRST = ['ACME', 'ATLAS', 'BLUE RIDGE', 'CEDAR', 'DELTA', 'EVERGREEN', 'FIRST', 'GRANITE', 'HARBOR', 'IRONWOOD',
  'JUNIPER', 'KEYSTONE', 'LAKESIDE', 'MERIDIAN', 'NORTHSTAR', 'OAKMONT', 'PINNACLE', 'QUARRY', 'REDWOOD', 'SUMMIT',
  'TIDEWATER', 'UPLAND', 'VALLEY', 'WESTFIELD', 'YARROW', 'ZENITH', 'AURORA', 'BEACON', 'COPPER', 'DRIFTWOOD'];

/** Industries: a name word, SIC and NAICS codes. */
export const INDUSTRIES = [
  { word: 'SYSTEMS', sic: 3674, naics: '334413' },
  { word: 'BANCORP', sic: 6022, naics: '522110' },
  { word: 'ENERGY', sic: 1311, naics: '211120' },
  { word: 'PHARMACEUTICALS', sic: 2834, naics: '325412' },
  { word: 'MOTORS', sic: 3711, naics: '336111' },
  { word: 'FOODS', sic: 2000, naics: '311999' },
  { word: 'SOFTWARE', sic: 7372, naics: '511210' },
  { word: 'INDUSTRIES', sic: 3560, naics: '333999' },
  { word: 'STORES', sic: 5331, naics: '452319' },
  { word: 'MEDICAL', sic: 3841, naics: '339112' },
  { word: 'NETWORKS', sic: 4813, naics: '517311' },
  { word: 'MINING', sic: 1040, naics: '212221' },
  { word: 'INSURANCE', sic: 6331, naics: '524126' },
  { word: 'REALTY', sic: 6798, naics: '531120' },
  { word: 'UTILITIES', sic: 4911, naics: '221112' },
] as const;
export type Industry = (typeof INDUSTRIES)[number];

const SUFFIX = ['INC', 'CORP', 'CO', 'HOLDINGS INC', 'GROUP INC'];
const ALNUM = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A company name (CRSP style: upper case, at most 35 characters). */
export function companyName(rng: Rng, industry: Industry, foreign = false): string {
  const suffix = foreign ? 'PLC' : rng.pick(SUFFIX);
  return `${rng.pick(FIRST)} ${industry.word} ${suffix}`.slice(0, 35);
}

/** A fresh ticker of 2-4 letters not in `taken` (which it then joins). */
export function freshTicker(rng: Rng, taken: Set<string>): string {
  for (;;) {
    const length = rng.chance(0.15) ? 2 : rng.chance(0.5) ? 3 : 4;
    let ticker = '';
    for (let i = 0; i < length; i++) ticker += rng.pick([...LETTERS]);
    if (!taken.has(ticker)) {
      taken.add(ticker);
      return ticker;
    }
  }
}

/** A 6-character CUSIP issuer code not in `taken`. */
export function freshIssuer(rng: Rng, taken: Set<string>): string {
  for (;;) {
    let issuer = String(rng.int(0, 9));
    for (let i = 0; i < 5; i++) issuer += rng.pick([...ALNUM]);
    if (!taken.has(issuer)) {
      taken.add(issuer);
      return issuer;
    }
  }
}
