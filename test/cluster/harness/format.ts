/** One-line text forms of entries and messages, for the interaction scripts and SEED traces. */
import { decodeConfChange, type Entry, type Message } from '../../../lib/cluster/raft/index.ts';

const utf8Decode = new TextDecoder();

export function fmtEntry(e: Entry): string {
  let data: string;
  if (e.type === 'confChange') {
    const cc = decodeConfChange(e.data);
    data = `cc{${cc.type} ${cc.nodeId}}`;
  } else data = e.data.byteLength === 0 ? '-' : utf8Decode.decode(e.data);
  return `${e.index}/t${e.term}:${data}`;
}

export function fmtMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  const rej = m.reject ? ' rejected' : '';
  const ents = m.entries.length > 0 ? ` entries=[${m.entries.map(fmtEntry).join(' ')}]` : '';
  const ctx = m.context ? ` ctx=${m.context}` : '';
  switch (m.type) {
    case 'MsgVote':
    case 'MsgPreVote':
      return `${head} last=${m.index}/t${m.logTerm}${ctx}`;
    case 'MsgApp':
      return `${head} prev=${m.index}/t${m.logTerm} commit=${m.commit}${ents}`;
    case 'MsgAppResp':
      return `${head} index=${m.index}${rej}${m.reject ? ` hint=${m.rejectHint}/t${m.logTerm}` : ''}`;
    case 'MsgHeartbeat':
      return `${head} commit=${m.commit}${ctx}`;
    case 'MsgSnap': {
      const md = m.snapshot?.metadata;
      return `${head} snapshot=${md?.index}/t${md?.term} voters=${md?.confState.voters.join(',')} learners=${md?.confState.learners.join(',') || '-'}`;
    }
    case 'MsgProp':
      return `${m.from}->${m.to} MsgProp${ents}`;
    default:
      return `${head}${rej}${ctx}${ents}`;
  }
}
