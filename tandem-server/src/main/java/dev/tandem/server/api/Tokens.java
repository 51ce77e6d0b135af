package dev.tandem.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tandem.core.error.TandemException;
import io.javalin.security.RouteRole;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The bearer tokens the server accepts, each with a role (seed 002's access table, plus the routers' own): from
 * {@code --tokens FILE} (YAML, a list of {@code {token, role}}) and the environment variables
 * {@code TANDEM_ADMIN_TOKEN}, {@code TANDEM_READ_TOKEN} and {@code TANDEM_ROUTER_TOKEN}. Only the tokens' SHA-256
 * digests are kept, and compared in constant time; a token is never logged or echoed.
 */
public final class Tokens {
    /**
     * What a token may do: read sees everything but changes nothing; router follows the routing state and acknowledges
     * it (what a {@code tandem-router} needs, nothing more: an acknowledgement lets a cutover go on, so a read token
     * must not be able to give one); admin does everything.
     */
    public enum Role implements RouteRole {
        ADMIN, READ, ROUTER;

        /** Whether this role may call a route that accepts {@code accepted}. */
        boolean allows(java.util.Set<RouteRole> accepted) {
            return this == ADMIN || accepted.contains(this);
        }

        /** The order in which one token given with several roles gets one: admin, then read, then router. */
        boolean widerThan(Role other) {
            return this != other && (this == ADMIN || other == ROUTER);
        }

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private record Entry(byte[] digest, Role role) {
    }

    private final List<Entry> entries;

    private Tokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static Tokens none() {
        return new Tokens(List.of());
    }

    /**
     * @param file may be null
     * @throws TandemException bad input naming the file, the entry and the fix (never the token)
     */
    public static Tokens load(Path file, Map<String, String> env) {
        List<Entry> out = new ArrayList<>();
        if (file != null) {
            JsonNode doc;
            try {
                doc = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw TandemException.badInput("--tokens " + file + ": cannot read it (" + e.getMessage()
                        + "); give a YAML file with a list of {token, role}");
            }
            JsonNode list = doc != null && doc.isObject() && doc.has("tokens") ? doc.get("tokens") : doc;
            if (list == null || !list.isArray()) {
                throw TandemException.badInput("--tokens " + file + ": expected a list of {token, role}, e.g.\n"
                        + "- {token: <at least 16 characters>, role: admin}\n- {token: <...>, role: read}\n"
                        + "- {token: <...>, role: router}");
            }
            for (int i = 0; i < list.size(); i++) {
                JsonNode e = list.get(i);
                String token = e.path("token").asText("");
                String role = e.path("role").asText("");
                if (token.length() < 16) {
                    throw TandemException.badInput("--tokens " + file + ": entry " + (i + 1) + ": token is "
                            + (token.isEmpty() ? "missing" : "shorter than 16 characters")
                            + "; use a long random string (e.g. openssl rand -hex 24)");
                }
                if (!role.equals("admin") && !role.equals("read") && !role.equals("router")) {
                    throw TandemException.badInput("--tokens " + file + ": entry " + (i + 1) + ": role '" + role
                            + "' is not admin, read or router");
                }
                out.add(new Entry(digest(token), Role.valueOf(role.toUpperCase(Locale.ROOT))));
            }
        }
        add(out, env.get("TANDEM_ADMIN_TOKEN"), Role.ADMIN, "TANDEM_ADMIN_TOKEN");
        add(out, env.get("TANDEM_READ_TOKEN"), Role.READ, "TANDEM_READ_TOKEN");
        add(out, env.get("TANDEM_ROUTER_TOKEN"), Role.ROUTER, "TANDEM_ROUTER_TOKEN");
        return new Tokens(out);
    }

    private static void add(List<Entry> out, String token, Role role, String variable) {
        if (token == null || token.isEmpty()) {
            return;
        }
        if (token.length() < 16) {
            throw TandemException.badInput(variable + " is shorter than 16 characters; use a long random string "
                    + "(e.g. openssl rand -hex 24)");
        }
        out.add(new Entry(digest(token), role));
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** A short, stable name of a token for the audit log (a prefix of its digest, never the token). */
    public static String fingerprint(String token) {
        return java.util.HexFormat.of().formatHex(digest(token)).substring(0, 8);
    }

    /**
     * The role of a presented token; every entry is compared, in constant time, whichever matches. The same token
     * given twice with different roles gets the first of admin, read, router.
     */
    public Optional<Role> roleOf(String token) {
        if (token == null) {
            return Optional.empty();
        }
        byte[] d = digest(token);
        Role found = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(e.digest(), d) && (found == null || e.role().widerThan(found))) {
                found = e.role();
            }
        }
        return Optional.ofNullable(found);
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
