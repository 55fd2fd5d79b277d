/**
 * The relations the sample creates, with WRDS's column names, order and types (WRDS.md).
 * Types vary the way WRDS's do: numeric(11,5) prices and numeric(10,6) returns in the legacy CRSP
 * files, double precision in the CIZ and Compustat files, double precision `lpermno`, varchar(6)
 * `gvkey`, a varchar `sic` in comp.company, `time` and `smallint` in TAQ.
 */

/** One column: its name and its PostgreSQL type as written in DDL. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
}

/** One relation of the sample. */
export interface TableSpec {
  readonly schema: string;
  readonly name: string;
  /** When set, the data lives in `vendorSchema.name` and `schema.name` is a VIEW over it (as on WRDS). */
  readonly vendorSchema?: string;
  /** The description in the relation's comment, e.g. 'Daily Stock - Securities'. */
  readonly title: string;
  /** `updated`: 'Title (Updated YYYY-MM-DD)'; `modified`: 'Last modified: MM/DD/YYYY 02:00:00'. */
  readonly form: 'updated' | 'modified';
  readonly columns: readonly ColumnSpec[];
  /** Columns of the b-tree index built after loading. */
  readonly indexOn?: readonly string[];
}

function cols(...defs: string[]): ColumnSpec[] {
  return defs.flatMap((def) =>
    def.split(',').map((part) => {
      const trimmed = part.trim().replace(/;/g, ',');
      const space = trimmed.indexOf(' ');
      return { name: trimmed.slice(0, space), type: trimmed.slice(space + 1) };
    }),
  );
}

const PRICE = 'numeric(11;5)';
const RET = 'numeric(10;6)';
const DBL = 'double precision';

const dsfHead = `cusip varchar(8), permno integer, permco integer, issuno integer, hexcd integer, hsiccd integer, date date`;
const namesCols = (endName: string): ColumnSpec[] =>
  cols(
    `permno integer, namedt date, ${endName} date, shrcd integer, exchcd integer, siccd integer, ncusip varchar(8)`,
    'ticker varchar(8), comnam varchar(35), shrcls varchar(1), tsymbol varchar(7), naics varchar(7), primexch varchar(1)',
    'trdstat varchar(1), secstat varchar(4), permco integer, compno integer, issuno integer, hexcd integer, hsiccd integer, cusip varchar(8)',
  );
const delistCols = cols(
  'permno integer, permco integer, dlstdt date, dlstcd integer, nwperm integer, nwcomp integer, nextdt date',
  `dlamt ${PRICE}, dlretx ${RET}, dlprc ${PRICE}, dlpdt date, dlret ${RET}, cusip varchar(8)`,
);

/** CRSP legacy (SIZ) relations. */
export const crspLegacyTables: readonly TableSpec[] = [
  {
    schema: 'crsp', name: 'dsf', vendorSchema: 'crsp_a_stock', title: 'Daily Stock - Securities', form: 'updated', indexOn: ['permno', 'date'],
    columns: cols(dsfHead, `bidlo ${PRICE}, askhi ${PRICE}, prc ${PRICE}, vol numeric, ret ${RET}, bid ${PRICE}, ask ${PRICE}`,
      `shrout numeric, cfacpr numeric, cfacshr numeric, openprc ${PRICE}, numtrd integer, retx ${RET}`),
  },
  {
    schema: 'crsp', name: 'msf', vendorSchema: 'crsp_a_stock', title: 'Monthly Stock - Securities', form: 'updated', indexOn: ['permno', 'date'],
    columns: cols(dsfHead, `bidlo ${PRICE}, askhi ${PRICE}, prc ${PRICE}, vol numeric, ret ${RET}, bid ${PRICE}, ask ${PRICE}`,
      `shrout numeric, cfacpr numeric, cfacshr numeric, altprc ${PRICE}, spread ${PRICE}, altprcdt date, retx ${RET}`),
  },
  { schema: 'crsp', name: 'dsenames', vendorSchema: 'crsp_a_stock', title: 'Daily Stock Event - Name History', form: 'updated', columns: namesCols('nameendt') },
  { schema: 'crsp', name: 'msenames', title: 'Monthly Stock Event - Name History', form: 'updated', columns: namesCols('nameendt') },
  {
    schema: 'crsp', name: 'stocknames', title: 'CRSP Stock Names', form: 'modified',
    columns: cols(`permno ${DBL}, namedt date, nameenddt date, shrcd ${DBL}, exchcd ${DBL}, siccd ${DBL}, ncusip varchar(8)`,
      `ticker varchar(8), comnam varchar(35), shrcls varchar(1), permco ${DBL}, hexcd ${DBL}, cusip varchar(8)`,
      'st_date date, end_date date, namedum integer'),
  },
  { schema: 'crsp', name: 'dsedelist', title: 'Daily Stock Event - Delisting', form: 'updated', columns: delistCols },
  { schema: 'crsp', name: 'msedelist', title: 'Monthly Stock Event - Delisting', form: 'updated', columns: delistCols },
  {
    schema: 'crsp', name: 'dsedist', title: 'Daily Stock Event - Distribution', form: 'updated',
    columns: cols('permno integer, distcd integer, divamt numeric(12;6), facpr numeric, facshr numeric',
      'dclrdt date, exdt date, paydt date, rcrddt date, acperm integer, accomp integer'),
  },
  {
    schema: 'crsp', name: 'dsi', title: 'Daily Stock - Market Indexes', form: 'updated',
    columns: cols(`date date, vwretd ${DBL}, vwretx ${DBL}, ewretd ${DBL}, ewretx ${DBL}, sprtrn ${DBL}, spindx ${DBL}`,
      `totval ${DBL}, totcnt integer, usdval ${DBL}, usdcnt integer`),
  },
];

/** CRSP CIZ (v2) relations. */
export const crspCizTables: readonly TableSpec[] = [
  {
    schema: 'crsp', name: 'dsf_v2', vendorSchema: 'crsp_a_stock', title: 'Daily Stock File (CIZ format)', form: 'updated', indexOn: ['permno', 'dlycaldt'],
    columns: cols(`permno integer, dlycaldt date, dlyprc ${DBL}, dlyopen ${DBL}, dlyhigh ${DBL}, dlylow ${DBL}, dlyvol ${DBL}`,
      `shrout bigint, dlyret ${DBL}, dlyretx ${DBL}, dlyfacprc ${DBL}, primaryexch varchar(1), siccd integer, ticker varchar(8)`,
      'permco integer, hdrcusip varchar(8), naics varchar(7), dlyprcflg varchar(2), dlydelflg varchar(1), dlyretmissflg varchar(2)',
      `dlybid ${DBL}, dlyask ${DBL}, dlyclose ${DBL}, dlynumtrd integer, dlycap ${DBL}, dlycumfacpr ${DBL}, dlycumfacshr ${DBL}`,
      'securitytype varchar(4), securitysubtype varchar(4), sharetype varchar(2), usincflg varchar(1), issuertype varchar(4)',
      'conditionaltype varchar(2), tradingstatusflg varchar(1)'),
  },
  {
    schema: 'crsp', name: 'msf_v2', title: 'Monthly Stock File (CIZ format)', form: 'updated', indexOn: ['permno', 'mthcaldt'],
    columns: cols(`permno integer, mthcaldt date, mthret ${RET}, mthretx ${RET}, mthprc ${DBL}, mthcap ${DBL}, mthvol ${DBL}`,
      'shrout bigint, siccd integer, naics varchar(7), ticker varchar(8), primaryexch varchar(1)',
      'permco integer, hdrcusip varchar(8), mthprcflg varchar(2), mthdelflg varchar(1), mthretmissflg varchar(2)'),
  },
  {
    schema: 'crsp', name: 'stksecurityinfohist', title: 'Stock Security Information History (CIZ format)', form: 'modified',
    columns: cols('permno integer, secinfostartdt date, secinfoenddt date, issuernm varchar(35), shareclass varchar(1)',
      'hdrcusip varchar(8), primaryexch varchar(1), tradingstatusflg varchar(1), naics varchar(7), siccd integer',
      'sharetype varchar(2), securitytype varchar(4), securitysubtype varchar(4), usincflg varchar(1), issuertype varchar(4)',
      'conditionaltype varchar(2), permco integer, ticker varchar(8), tradingsymbol varchar(8), cusip varchar(8)'),
  },
  {
    schema: 'crsp', name: 'stkdelists', title: 'Stock Delisting Events (CIZ format)', form: 'updated',
    columns: cols('permno integer, delistingdt date, delactiontype varchar(3), delstatustype varchar(2), delreasontype varchar(3)',
      `delpaymenttype varchar(2), delret ${DBL}, delretx ${DBL}, delnextdt date, delnextprc ${DBL}, delpermno integer`,
      'delpermco integer, delretmisstype varchar(2)'),
  },
];

/** The CRSP–Compustat link history. */
export const ccmTables: readonly TableSpec[] = [
  {
    schema: 'crsp', name: 'ccmxpf_lnkhist', vendorSchema: 'crsp_a_ccm', title: 'CRSP/Compustat Merged - Link History', form: 'modified',
    columns: cols(`gvkey varchar(6), linkprim varchar(1), liid varchar(3), linktype varchar(2), lpermno ${DBL}, lpermco ${DBL}`,
      'linkdt date, linkenddt date'),
  },
];

const compHead = 'indfmt varchar(12), consol varchar(2), popsrc varchar(1), datafmt varchar(12), tic varchar(8), cusip varchar(9), conm varchar(68), curcd varchar(3)';
/** Annual data items, in the order of comp.funda. */
export const fundaItems = ['act', 'at', 'capx', 'ceq', 'che', 'cogs', 'dlc', 'dltt', 'dp', 'dvc', 'ib', 'invt', 'lct', 'lt', 'ni',
  'oancf', 'pstk', 'pstkl', 'pstkrv', 're', 'revt', 'sale', 'seq', 'txdb', 'txditc', 'xint', 'xsga'] as const;
/** Quarterly data items, in the order of comp.fundq. */
export const fundqItems = ['atq', 'ceqq', 'ltq', 'saleq', 'niq', 'ibq', 'revtq', 'cheq', 'actq', 'lctq', 'dlttq', 'seqq', 'pstkq',
  'txditcq', 'cshoq', 'prccq'] as const;

/** Compustat relations. */
export const compTables: readonly TableSpec[] = [
  {
    schema: 'comp', name: 'funda', vendorSchema: 'comp_na_daily_all', title: 'Fundamentals Annual', form: 'modified', indexOn: ['gvkey', 'datadate'],
    columns: [
      ...cols(`gvkey varchar(6), datadate date, fyear ${DBL}`, compHead, `fyr ${DBL}, apdedate date, fdate date, pdate date`),
      ...fundaItems.map((name) => ({ name, type: DBL })),
      ...cols(`cik varchar(10), costat varchar(1), fic varchar(3), naicsh ${DBL}, sich ${DBL}, prcc_f ${DBL}, csho ${DBL}, mkvalt ${DBL}`),
    ],
  },
  {
    schema: 'comp', name: 'fundq', vendorSchema: 'comp_na_daily_all', title: 'Fundamentals Quarterly', form: 'modified', indexOn: ['gvkey', 'datadate'],
    columns: [
      ...cols(`gvkey varchar(6), datadate date, fyearq ${DBL}, fqtr ${DBL}, fyr ${DBL}, rdq date, apdedateq date, datacqtr varchar(6), datafqtr varchar(6)`),
      ...fundqItems.map((name) => ({ name, type: DBL })),
      ...cols(compHead, `fdateq date, pdateq date, updq ${DBL}, cik varchar(10), costat varchar(1), fic varchar(3)`),
    ],
  },
  {
    schema: 'comp', name: 'company', title: 'Company', form: 'modified',
    columns: cols('gvkey varchar(6), conm varchar(68), cik varchar(10), sic varchar(4), naics varchar(6), state varchar(2), fic varchar(3)',
      'ipodate date, dldte date, dlrsn varchar(8), costat varchar(1)'),
  },
];

const ffHead = `date date, mktrf ${DBL}, smb ${DBL}, hml ${DBL}`;
/** Fama–French relations (decimals, not percent). */
export const ffTables: readonly TableSpec[] = [
  { schema: 'ff', name: 'factors_daily', title: 'Fama-French Portfolios and Factors - Daily Frequency', form: 'updated', columns: cols(ffHead, `rf ${DBL}, umd ${DBL}`) },
  { schema: 'ff', name: 'factors_monthly', title: 'Fama-French Portfolios and Factors - Monthly Frequency', form: 'updated', columns: cols(ffHead, `rf ${DBL}, umd ${DBL}, dateff date`) },
  { schema: 'ff', name: 'fivefactors_daily', title: 'Fama-French 5 Factors Plus Momentum - Daily Frequency', form: 'modified', columns: cols(ffHead, `rmw ${DBL}, cma ${DBL}, rf ${DBL}, umd ${DBL}`) },
];

/** The four TAQ relations of one day, in schema `taqm_YYYY`. */
export function taqTables(day: string): TableSpec[] {
  const schema = `taqm_${day.slice(0, 4)}`;
  const ymd = day.replace(/-/g, '');
  const head = 'date date, time_m time, time_m_nano smallint';
  return [
    {
      schema, name: `ctm_${ymd}`, title: 'Millisecond Trades', form: 'modified', indexOn: ['sym_root', 'time_m'],
      columns: cols(head, 'ex varchar(1), sym_root varchar(6), sym_suffix varchar(10), tr_scond varchar(4), size integer',
        `price ${DBL}, tr_stopind varchar(1), tr_corr varchar(2), tr_seqnum bigint, tr_source varchar(1), tr_rf varchar(1)`),
    },
    {
      schema, name: `cqm_${ymd}`, title: 'Millisecond Quotes', form: 'modified', indexOn: ['sym_root', 'time_m'],
      columns: cols(head, `ex varchar(1), sym_root varchar(6), sym_suffix varchar(10), bid ${DBL}, bidsiz integer, ask ${DBL}`,
        'asksiz integer, qu_cond varchar(1), qu_seqnum bigint, natbbo_ind varchar(1), qu_cancel varchar(1), qu_source varchar(1)'),
    },
    {
      schema, name: `complete_nbbo_${ymd}`, title: 'Millisecond Complete National Best Bid and Offer', form: 'modified', indexOn: ['sym_root', 'time_m'],
      columns: cols(head, 'sym_root varchar(6), sym_suffix varchar(10), qu_cond varchar(1), natbbo_ind varchar(1), qu_source varchar(1)',
        `nbbo_qu_cond varchar(1), best_bid ${DBL}, best_bidsizeshares integer, best_ask ${DBL}, best_asksizeshares integer`),
    },
    {
      schema, name: `mastm_${ymd}`, title: 'Millisecond Master', form: 'updated',
      columns: cols('date date, sym_root varchar(6), sym_suffix varchar(10), symbol_15 varchar(15), cusip varchar(9), tape varchar(1)',
        'uot integer, round_lot integer, sec_type varchar(1), listed_exchange varchar(1)'),
    },
  ];
}

/** 'schema.name' of a spec. */
export function qualifiedName(spec: TableSpec): string {
  return `${spec.schema}.${spec.name}`;
}
