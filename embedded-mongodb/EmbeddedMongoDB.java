import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVStoreException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A MongoDB wire-protocol server for tests and local development, run as a single-file program:
 *
 * <pre>
 *   java -cp 'embedded-mongodb/jars/*' embedded-mongodb/EmbeddedMongoDB.java PORT memory
 *   java -cp 'embedded-mongodb/jars/*' embedded-mongodb/EmbeddedMongoDB.java PORT h2 DATA_FILE
 * </pre>
 *
 * PORT 0 picks a free port. Once listening it prints exactly one line to stdout,
 * {@code MONGODB_URI=mongodb://127.0.0.1:PORT}, and nothing else ever goes to stdout.
 * When another process holds the H2 data file it prints the single line
 * {@code EmbeddedMongoDB: data file locked: DATA_FILE} to stderr and exits with code 1.
 *
 * It stops on SIGTERM/SIGINT and also when its stdin reaches end-of-file: the process that
 * spawned it holds the other end of that pipe, so the server cannot outlive its parent even
 * when the parent is killed without a chance to clean up.
 */
public class EmbeddedMongoDB {
    private static final String HOST = "127.0.0.1";
    /** What scripts/embedded-mongodb.ts looks for on stderr; the data file's path follows it. */
    private static final String DATA_FILE_LOCKED = "EmbeddedMongoDB: data file locked: ";

    /**
     * mongo-java-server 1.46.0 announces MongoDB 4.0 (wire version 7), which the Node.js drivers
     * refuse: 6.x needs wire version 8 (MongoDB 4.2) and 7.x needs 9 (MongoDB 4.4). Announcing 4.4
     * is the smallest claim both accept, so neither uses a newer server feature. Nothing the
     * project relies on differs between 4.0 and 4.4 (test/embedded-mongodb.test.ts checks those
     * operations under both drivers).
     */
    private static final MongoVersion ANNOUNCED_VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    public static void main(String[] args) {
        if (args.length < 2 || args.length > 3) {
            usage("expected 2 or 3 arguments, got " + args.length);
        }
        int port = parsePort(args[0]);
        try {
            serve(port, args[1], args.length == 3 ? args[2] : null);
        } catch (Exception e) {
            // Netty's threads are not daemons: without an explicit exit a failed bind would
            // leave a JVM that neither listens nor stops.
            if (isFileLocked(e)) {
                // Another server has the file open: an expected situation, not a crash, so one
                // line the launcher can recognise instead of H2's stack trace.
                System.err.println(DATA_FILE_LOCKED + Path.of(args[2]).toAbsolutePath());
                System.exit(1);
            }
            System.err.println("EmbeddedMongoDB: cannot start on " + HOST + ":" + port);
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void serve(int port, String backendName, String dataFile) throws IOException {
        MongoBackend backend = createBackend(backendName, dataFile).version(ANNOUNCED_VERSION);
        MongoServer server = new MongoServer(backend);
        server.bind(HOST, port);
        // Shutdown hooks run on SIGTERM, SIGINT and System.exit alike; shutdownNow also closes
        // the backend, which is what flushes the H2 file.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "embedded-mongodb-shutdown"));

        System.out.println("MONGODB_URI=mongodb://" + HOST + ":" + server.getLocalAddress().getPort());
        System.out.flush();

        waitForEndOfInput(System.in);
        System.exit(0);
    }

    private static boolean isFileLocked(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof MVStoreException store && store.getErrorCode() == DataUtils.ERROR_FILE_LOCKED) {
                return true;
            }
        }
        return false;
    }

    private static int parsePort(String value) {
        try {
            int port = Integer.parseInt(value);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        usage("port must be an integer from 0 to 65535, got '" + value + "'");
        return -1;
    }

    private static MongoBackend createBackend(String name, String dataFile) throws IOException {
        switch (name) {
            case "memory":
                if (dataFile != null) {
                    usage("the memory backend takes no data file");
                }
                return new MemoryBackend();
            case "h2":
                if (dataFile == null) {
                    usage("the h2 backend needs a data file path");
                }
                Path parent = Path.of(dataFile).toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                return new H2Backend(dataFile);
            default:
                usage("backend must be 'memory' or 'h2', got '" + name + "'");
                return null;
        }
    }

    private static void waitForEndOfInput(InputStream input) {
        byte[] buffer = new byte[256];
        try {
            while (input.read(buffer) != -1) {
                // Input is ignored; only its end matters.
            }
        } catch (IOException e) {
            // A broken stdin means the parent is gone, same as end-of-file.
        }
    }

    private static void usage(String problem) {
        System.err.println("EmbeddedMongoDB: " + problem);
        System.err.println("usage: java -cp 'embedded-mongodb/jars/*' embedded-mongodb/EmbeddedMongoDB.java PORT (memory | h2 DATA_FILE)");
        System.exit(2);
    }
}
