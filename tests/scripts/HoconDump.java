// Prints each HOCON file given on the command line, parsed and resolved by
// Typesafe Config (the library JVB itself reads jvb.conf with), as one line
// of JSON, so that the tests check what a real bridge would read.
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import java.io.File;

public class HoconDump {
	public static void main(String[] args) {
		ConfigParseOptions opts = ConfigParseOptions.defaults()
		    .setAllowMissing(false);
		for (String path : args) {
			Config c = ConfigFactory.parseFile(new File(path), opts)
			    .resolve();
			System.out.println(c.root().render(
			    ConfigRenderOptions.concise()));
		}
	}
}
