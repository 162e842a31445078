package dev.outpost.ima.boot;

import java.util.List;
import java.util.Objects;
import java.util.Set;

import dev.outpost.tpm.eventlog.Event;
import dev.outpost.tpm.eventlog.EventData;
import dev.outpost.tpm.eventlog.EventType;

/**
 * Allowed digests for a class of events: every event of the PCR, one of the types and (when {@code eventText} is
 * set) a text that fully matches it must carry one of the allowed digests, and at least one such event must be
 * there. Covers what Keylime's reference state checks beyond our named sections: the S-CRTM and platform
 * firmware blobs in PCR 0, shim's MokList/MokListX in PCR 14, grub's initrd in PCR 9.
 *
 * <p>The text selecting the events is not covered by their digests (those hash the measured object, not the
 * description), so it only picks which events the rule looks at; "at least one" keeps a device from renaming the
 * only one away.
 *
 * @param comment for people
 * @param pcr PCR index 0..23
 * @param eventTypes raw TCG event types, at least one
 * @param eventText null, or a Java regex the decoded text must match in full
 * @param allowed the allowed digests, each by bank (the same matching as boot applications)
 */
public record EventDigestRule(String comment, int pcr, Set<Integer> eventTypes, CmdlineRule eventText,
                              List<AllowedApplication> allowed) {
    public EventDigestRule {
        if (pcr < 0 || pcr > 23 || eventTypes.isEmpty()) {
            throw new IllegalArgumentException("an event digest rule needs a PCR 0..23 and at least one type");
        }
        eventTypes = Set.copyOf(eventTypes);
        allowed = List.copyOf(allowed);
        Objects.requireNonNull(allowed);
    }

    boolean selects(Event e) {
        if (e.pcr() != pcr || !eventTypes.contains(e.rawType())) {
            return false;
        }
        if (eventText == null) {
            return true;
        }
        return e.decoded() instanceof EventData.Text t && eventText.matches(t.text(), CmdlineCheck.REGEX_BUDGET);
    }

    String describe() {
        StringBuilder sb = new StringBuilder("PCR ").append(pcr).append(' ');
        eventTypes.stream().sorted().forEach(t -> sb.append(EventType.nameOf(t)).append(' '));
        if (eventText != null) {
            sb.append("text ~ \"").append(eventText.regex()).append("\" ");
        }
        if (comment != null) {
            sb.append('(').append(comment).append(')');
        }
        return sb.toString().trim();
    }
}
