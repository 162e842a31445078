/**
 * TCG PC Client boot event logs: parsing of the legacy SHA-1 and crypto-agile formats, best-effort decoding
 * of common event data, PCR replay and a writer for synthetic logs.
 *
 * <p>Entry points: {@link dev.outpost.tpm.eventlog.EventLog#parse(byte[])},
 * {@link dev.outpost.tpm.eventlog.PcrReplay#replay(EventLog)} and
 * {@link dev.outpost.tpm.eventlog.EventLogWriter}. Parsing is bounded by
 * {@link dev.outpost.tpm.eventlog.Limits}; any structural problem is an
 * {@link dev.outpost.tpm.eventlog.EventLogException} naming the byte offset, while a problem inside one
 * event's data only marks that event {@link dev.outpost.tpm.eventlog.EventData.Undecodable}.
 */
package dev.outpost.tpm.eventlog;
